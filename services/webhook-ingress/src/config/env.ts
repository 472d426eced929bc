import { BaseEnv } from '@wa/config';

export class IngressEnv extends BaseEnv {}
