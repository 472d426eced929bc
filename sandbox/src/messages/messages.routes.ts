import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../sandbox-context';

// Filled in by the issue that owns this part of the simulator.
export async function registerMessages(_app: FastifyInstance, _context: SandboxContext): Promise<void> {}
