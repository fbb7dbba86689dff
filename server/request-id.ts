// X-Request-Id: the client's own when it is a safe token, a fresh random one otherwise; echoed and logged, never a key.
import { randomUUID } from 'node:crypto';

/** The longest request id accepted from a client: enough for a UUID, a trace id or a load balancer's id with a prefix. */
export const MAX_REQUEST_ID_LENGTH = 128;

/**
 * Whether `value` may be echoed and logged as it is: 1 to {@link MAX_REQUEST_ID_LENGTH} visible ASCII characters
 * (0x21 to 0x7E). No spaces, controls or non-ASCII, so an id can neither split a header or a log line nor smuggle
 * anything into them.
 */
export function isValidRequestId(value: string): boolean {
  if (value.length === 0 || value.length > MAX_REQUEST_ID_LENGTH) {
    return false;
  }
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 0x21 || code > 0x7e) {
      return false;
    }
  }
  return true;
}

/**
 * The id of one request: the client's X-Request-Id when valid, else a random UUID. The UUID comes from its own
 * CSPRNG call (`randomUUID`), never from the key pool, so an id can reveal nothing about a key.
 */
export function requestIdFor(sent: string | undefined, generate: () => string = randomUUID): string {
  return sent !== undefined && isValidRequestId(sent) ? sent : generate();
}
