import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { QueryFailedError } from 'typeorm';
import { classifyFailure, InfrastructureUnavailableError, NonRetriableError } from './errors';

const pgError = (code: string, message = 'server error') => Object.assign(new Error(message), { code });
const protocol = (type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code, retriable, message: type } as unknown as Error);

describe('classifyFailure', () => {
  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['connection cut', new Error('Connection terminated unexpectedly')],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
    ['admin shutdown (57P01) inside a TypeORM error', new QueryFailedError('SELECT 1', [], pgError('57P01', 'terminating connection'))],
    ['too many connections (53300)', pgError('53300', 'sorry, too many clients already')],
    ['connection exception class 08', pgError('08006', 'connection failure')],
    ['cannot connect now (57P03)', pgError('57P03', 'the database system is starting up')],
    [
      'Kafka unreachable after retries',
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), { retryCount: 5, retryTime: 3000 }),
    ],
    ['Kafka leader moving', protocol('LEADER_NOT_AVAILABLE', 5, true)],
    ['a handler saying so', new InfrastructureUnavailableError('registry answered 503')],
    ['a wrapped cause', new Error('saving the message failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })],
  ])('%s: infrastructure', (_, error) => {
    expect(classifyFailure(error)).toBe('infrastructure');
  });

  it.each([
    ['a handler rejecting input', new NonRetriableError('missing contact', 'invalid-payload')],
    ['a record too large for the broker', protocol('MESSAGE_TOO_LARGE', 10, false)],
  ])('%s: non-retriable', (_, error) => {
    expect(classifyFailure(error)).toBe('non-retriable');
  });

  it.each([
    ['a unique violation (23505)', new QueryFailedError('INSERT', [], pgError('23505', 'duplicate key'))],
    ['a serialization failure (40001)', pgError('40001', 'could not serialize access')],
    ['a statement timeout (57014)', pgError('57014', 'canceling statement due to statement timeout')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ])('%s: retriable (retry topic, then DLQ)', (_, error) => {
    expect(classifyFailure(error)).toBe('retriable');
  });
});
