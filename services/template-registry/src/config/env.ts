import { BaseEnv } from '@wa/config';

export class TemplatesEnv extends BaseEnv {}
