import { BaseEnv } from '@wa/config';

export class SchedulerEnv extends BaseEnv {}
