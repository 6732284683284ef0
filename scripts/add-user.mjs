#!/usr/bin/env node
// Adds (or replaces) a console user in config/users.properties (or --file F), for a broker that has
// not started yet: a broker imports the file once, at its first start, into its user store (SCRAM
// credentials, roles as ACLs on the cluster) and does not read it again.
//   npm run user:add -- USER ROLE [--password P] [--file F]   (password from stdin when not given)
// Stored as username=role:salt:hash, the hash scrypt (N=16384, r=8, p=1, 64 bytes) with a 16-byte random salt.
import { randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
let password;
let file = 'config/users.properties';
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--password') password = args[++i];
  else if (args[i] === '--file') file = args[++i];
  else positional.push(args[i]);
}
const [user, role] = positional;
if (!user || !/^[A-Za-z0-9_.@-]{1,64}$/.test(user) || (role !== 'admin' && role !== 'viewer') || !file) {
  console.error('usage: add-user.mjs USER admin|viewer [--password P] [--file F] (password read from stdin otherwise)');
  process.exit(2);
}
if (password === undefined) {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
if (!password) {
  console.error('the password must not be empty');
  process.exit(2);
}
const salt = randomBytes(16).toString('hex');
const hash = scryptSync(password, Buffer.from(salt, 'hex'), 64, {
  N: 16384,
  r: 8,
  p: 1,
  maxmem: 64 * 1024 * 1024,
}).toString('hex');
const line = `${user}=${role}:${salt}:${hash}`;
const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
const at = lines.findIndex((l) => l.trim().startsWith(`${user}=`));
if (at >= 0) lines[at] = line;
else {
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.push(line, '');
}
writeFileSync(file, lines.join('\n'), { mode: 0o600 });
console.log(`${at >= 0 ? 'updated' : 'added'} ${user} (${role}) in ${file}`);
// the broker imports this file once, at its first start (then its user store and ACLs are the truth)
console.log(
  'note: a broker reads this file only at its first start, when it imports it into its user store; on a broker that has started before, use `sluice user add NAME` and `sluice acl add --allow-principal User:NAME --operation Describe|Alter --cluster`',
);
