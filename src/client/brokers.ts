/**
 * The `brokers` option: an array of 'host:port', a comma-separated string, or
 * an ActiveMQ-style failover URL:
 *
 *   failover:(tcp://a:9092,tcp://b:9093)?randomize=false&initialReconnectDelay=1000
 *
 * Failover options understood (ActiveMQ's names): randomize, initialReconnectDelay,
 * maxReconnectDelay, useExponentialBackOff, backOffMultiplier,
 * maxReconnectAttempts (-1 or 0: the client's bounded default), timeout
 * (ms an operation waits for a reconnection; -1: the request timeout).
 * Unknown options are refused, so a typo does not pass silently.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  clientReconnectAttemptsDefault,
  clientReconnectAttemptsMax,
  clientReconnectDelayMsDefault,
  clientReconnectDelayMsMax,
} from '../shared/limits.js';

export interface BrokerAddress {
  host: string;
  port: number;
}

export interface ReconnectPolicy {
  randomize: boolean;
  initialReconnectDelayMs: number;
  maxReconnectDelayMs: number;
  useExponentialBackOff: boolean;
  backOffMultiplier: number;
  maxReconnectAttempts: number;
  /** ms an operation may wait for a broken transport to come back; -1: no extra limit. */
  timeoutMs: number;
}

export interface BrokerList {
  brokers: BrokerAddress[];
  reconnect: ReconnectPolicy;
}

export const defaultBrokers = '127.0.0.1:9092';
const defaultPort = 9092;
const brokersMax = 1_000;

function bad(message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidArgument, message);
}

export function defaultReconnectPolicy(): ReconnectPolicy {
  return {
    randomize: false,
    initialReconnectDelayMs: clientReconnectDelayMsDefault,
    maxReconnectDelayMs: clientReconnectDelayMsMax,
    useExponentialBackOff: true,
    backOffMultiplier: 2,
    maxReconnectAttempts: clientReconnectAttemptsDefault,
    timeoutMs: -1,
  };
}

/** 'host:port', 'tcp://host:port', '[::1]:port' or 'host' (port 9092). */
export function parseAddress(text: string): BrokerAddress {
  let s = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) {
    if ((scheme[1] as string).toLowerCase() !== 'tcp') throw bad(`unsupported scheme in broker address '${text}'`);
    s = s.slice(scheme[0].length);
  }
  s = s.replace(/\/+$/, '');
  if (s.length === 0) throw bad('empty broker address');
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw bad(`unclosed '[' in broker address '${text}'`);
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) throw bad(`bad broker address '${text}'`);
      portText = rest.slice(1);
    }
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0 && s.indexOf(':') !== colon) throw bad(`IPv6 broker address '${text}' needs [brackets]`);
    host = colon >= 0 ? s.slice(0, colon) : s;
    portText = colon >= 0 ? s.slice(colon + 1) : undefined;
  }
  if (host.length === 0 || /[\s/?#@]/.test(host)) throw bad(`bad host in broker address '${text}'`);
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw bad(`bad port in broker address '${text}'`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(`port out of range in broker address '${text}'`);
  }
  return { host, port };
}

function splitList(text: string): BrokerAddress[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw bad('the broker list is empty');
  if (parts.length > brokersMax) throw bad(`more than ${brokersMax} brokers`);
  return parts.map(parseAddress);
}

function parseBool(key: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw bad(`failover option ${key} must be true or false, not '${value}'`);
}

function parseNumber(key: string, value: string, min: number, max: number): number {
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw bad(`failover option ${key} must be a number, not '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw bad(`failover option ${key}=${value} is outside ${min}..${max}`);
  return n;
}

function parseFailover(text: string): BrokerList {
  let rest = text.trim().slice('failover:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  let list: string;
  let query = '';
  if (rest.startsWith('(')) {
    const close = rest.indexOf(')');
    if (close < 0) throw bad(`unclosed '(' in failover URL '${text}'`);
    list = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after.length > 0) {
      if (!after.startsWith('?')) throw bad(`unexpected '${after}' after the broker list in '${text}'`);
      query = after.slice(1);
    }
  } else {
    const q = rest.indexOf('?');
    list = q >= 0 ? rest.slice(0, q) : rest;
    query = q >= 0 ? rest.slice(q + 1) : '';
  }
  const reconnect = defaultReconnectPolicy();
  reconnect.randomize = true; // ActiveMQ's default for failover URLs
  for (const pair of query.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw bad(`failover option '${pair}' needs a value`);
    const key = decodeURIComponent(pair.slice(0, eq));
    const value = decodeURIComponent(pair.slice(eq + 1));
    switch (key) {
      case 'randomize':
        reconnect.randomize = parseBool(key, value);
        break;
      case 'initialReconnectDelay':
        reconnect.initialReconnectDelayMs = parseNumber(key, value, 0, clientReconnectDelayMsMax);
        break;
      case 'maxReconnectDelay':
        reconnect.maxReconnectDelayMs = parseNumber(key, value, 0, 10 * clientReconnectDelayMsMax);
        break;
      case 'useExponentialBackOff':
        reconnect.useExponentialBackOff = parseBool(key, value);
        break;
      case 'backOffMultiplier':
        reconnect.backOffMultiplier = parseNumber(key, value, 1, 100);
        break;
      case 'maxReconnectAttempts': {
        const n = parseNumber(key, value, -1, clientReconnectAttemptsMax);
        reconnect.maxReconnectAttempts = n <= 0 ? clientReconnectAttemptsDefault : Math.floor(n);
        break;
      }
      case 'timeout':
        reconnect.timeoutMs = parseNumber(key, value, -1, 24 * 3600 * 1000);
        break;
      default:
        throw bad(`unknown failover option '${key}'`);
    }
  }
  if (reconnect.maxReconnectDelayMs < reconnect.initialReconnectDelayMs) {
    reconnect.maxReconnectDelayMs = reconnect.initialReconnectDelayMs;
  }
  return { brokers: splitList(list), reconnect };
}

/** Parses the `brokers` option (undefined: 127.0.0.1:9092). Throws InvalidArgument. */
export function parseBrokers(input?: string | readonly string[]): BrokerList {
  if (input === undefined) return { brokers: splitList(defaultBrokers), reconnect: defaultReconnectPolicy() };
  if (typeof input === 'string') {
    if (/^\s*failover:/i.test(input)) return parseFailover(input);
    return { brokers: splitList(input), reconnect: defaultReconnectPolicy() };
  }
  if (!Array.isArray(input)) throw bad('brokers must be a string or an array of strings');
  if (input.length === 1 && /^\s*failover:/i.test(input[0] as string)) return parseFailover(input[0] as string);
  const brokers: BrokerAddress[] = [];
  for (const item of input) {
    if (typeof item !== 'string') throw bad('brokers must be a string or an array of strings');
    brokers.push(...splitList(item));
    if (brokers.length > brokersMax) throw bad(`more than ${brokersMax} brokers`);
  }
  if (brokers.length === 0) throw bad('the broker list is empty');
  return { brokers, reconnect: defaultReconnectPolicy() };
}

/** Delay before reconnect attempt number `attempt` (0-based). */
export function reconnectDelayMs(policy: ReconnectPolicy, attempt: number): number {
  if (!policy.useExponentialBackOff) return policy.initialReconnectDelayMs;
  const d = policy.initialReconnectDelayMs * policy.backOffMultiplier ** Math.min(attempt, 64);
  return Math.min(d, policy.maxReconnectDelayMs);
}

export function addressText(a: BrokerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
