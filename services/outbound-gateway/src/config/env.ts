import { BaseEnv } from '@wa/config';

export class GatewayEnv extends BaseEnv {}
