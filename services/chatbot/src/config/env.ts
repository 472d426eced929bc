import { BaseEnv } from '@wa/config';

export class ChatbotEnv extends BaseEnv {}
