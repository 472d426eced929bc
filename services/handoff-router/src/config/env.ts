import { BaseEnv } from '@wa/config';

export class HandoffEnv extends BaseEnv {}
