/**
 * `http.trusted.proxies`: the reverse proxies whose X-Forwarded-For header
 * names the real client. Behind a proxy every client otherwise shares the
 * proxy's address, so per-address login delays would slow everyone for one
 * attacker's failures. Items: an IP address, a CIDR block (10.0.0.0/8) or one
 * of proxy-addr's names (loopback, linklocal, uniquelocal); empty trusts none,
 * so a client cannot spoof its address with the header.
 */
import { isIP } from 'node:net';
import { ErrorCode, SluiceError } from '../shared/errors.js';

const named = new Set(['loopback', 'linklocal', 'uniquelocal']);

function valid(item: string): boolean {
  if (named.has(item)) return true;
  const slash = item.indexOf('/');
  const address = slash < 0 ? item : item.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const prefix = item.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The trusted proxies for fastify's trustProxy, or false when none are. */
export function parseTrustedProxies(value: string): string[] | false {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!valid(item)) {
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        `invalid value "${item}" in http.trusted.proxies: not an IP address, CIDR block, loopback, linklocal or uniquelocal`,
      );
    }
  }
  return items.length > 0 ? items : false;
}
