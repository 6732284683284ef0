/**
 * Installs a Debian package a test drives (python3-confluent-kafka, python3-kafka, ...) when the
 * file that shows it is there is missing (scripts/debian-package.sh: root only; otherwise it fails
 * with the command to run).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './broker-process.js';

/** How long an apt-get install may take on a loaded machine. */
const installTimeoutMs = 300_000;

export function ensureDebianPackage(pkg: string, installedFile: string): void {
  execFileSync('bash', [path.join(repoRoot, 'scripts/debian-package.sh'), 'ensure', pkg, installedFile], {
    stdio: 'inherit',
    timeout: installTimeoutMs,
  });
}
