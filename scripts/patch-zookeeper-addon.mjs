#!/usr/bin/env node
/**
 * Patches the `zookeeper` npm addon (7.3.0) so that its socket poll can never
 * touch another socket's descriptor, then rebuilds the addon (npm postinstall).
 *
 * The defect: the addon polls the ZooKeeper C client's socket descriptor with
 * a libuv poll handle. The C client closes that descriptor on its own (a
 * ZooKeeper timeout, a reconnect) while the handle still names it; the
 * process then reuses the number for its next socket (a client connection the
 * broker accepts), and when the addon later closes its stale handle libuv
 * removes that number from the event loop's epoll set — the accepted
 * connection is never read again and its requests go unanswered.
 *
 * The patch polls a dup() of the C client's descriptor instead: the duplicate
 * belongs to the addon alone and is closed only right after its poll handle,
 * so its number cannot be reused while a handle names it. A new socket (by
 * number or by identity: st_dev/st_ino) gets a new duplicate and handle.
 *
 * Idempotent: a patched source is left alone (the marker below); another
 * version of the addon is left unpatched with a warning.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const marker = 'sluice-patch: poll a dup of the socket';
const require = createRequire(import.meta.url);
let pkgFile;
try {
  pkgFile = require.resolve('zookeeper/package.json');
} catch {
  console.warn('patch-zookeeper-addon: zookeeper is not installed; nothing to patch');
  process.exit(0);
}
const dir = path.dirname(pkgFile);
const { version } = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
if (version !== '7.3.0') {
  console.warn(
    `patch-zookeeper-addon: zookeeper ${version} is not 7.3.0; left unpatched (check the defect described in this script)`,
  );
  process.exit(0);
}
if (process.platform === 'win32') process.exit(0);

const source = path.join(dir, 'src', 'node-zk.cpp');
let text = fs.readFileSync(source, 'utf8');
if (!text.includes(marker)) {
  /** Replaces the one occurrence of `from`; anything else means the source is not what this patch knows. */
  const replaceOnce = (from, to) => {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0) {
      console.error(`patch-zookeeper-addon: expected exactly one occurrence of:\n${from}`);
      process.exit(1);
    }
    text = text.slice(0, at) + to + text.slice(at + from.length);
  };
  replaceOnce(
    '#include <string.h>\n',
    `#include <string.h>\n// ${marker} (Sluice scripts/patch-zookeeper-addon.mjs)\n#ifndef WIN32\n#include <sys/stat.h>\n#include <unistd.h>\n#endif\n`,
  );
  // the socket is gone: drop the handle (and its duplicate)
  replaceOnce(
    `        if (fd == -1 ) {
            if (zk_io) {
                uv_close((uv_handle_t*) zk_io, delete_on_close);
                zk_io = NULL;
            }
            return;
        }`,
    `        if (fd == -1 ) {
            dropPoll();
            return;
        }`,
  );
  // a new socket (a new number, or the same number for a new socket): a new duplicate and handle
  replaceOnce(
    `        if (oldFd != fd) {
            // If there was an existing handle, then clean it up
            if (zk_io) {
                uv_close((uv_handle_t*) zk_io, delete_on_close);
                zk_io = NULL;
            }
`,
    `        if (oldFd != fd || !pollWatches(fd)) {
            // If there was an existing handle, then clean it up
            dropPoll();
`,
  );
  replaceOnce(
    `             #else
             	uv_poll_init(Nan::GetCurrentEventLoop(), zk_io, fd);
             #endif`,
    `             #else
                zk_io_fd = dup(fd);
                struct stat st;
                if (zk_io_fd < 0 || fstat(zk_io_fd, &st) != 0) {
                    LOG_ERROR("yield: could not duplicate the ZooKeeper socket %d", fd);
                    if (zk_io_fd >= 0) close(zk_io_fd);
                    zk_io_fd = -1;
                    free(zk_io);
                    zk_io = NULL;
                    return;
                }
                zk_io_dev = st.st_dev;
                zk_io_ino = st.st_ino;
             	uv_poll_init(Nan::GetCurrentEventLoop(), zk_io, zk_io_fd);
             #endif`,
  );
  replaceOnce(
    `            if (zk_io) {
                int rc = uv_poll_stop(zk_io);
                LOG_DEBUG("zookeeper_close(%lp) uv_poll_stop result: %d", this, rc);

                uv_close((uv_handle_t*) zk_io, delete_on_close);
                zk_io = NULL;
            }`,
    `            dropPoll();`,
  );
  replaceOnce(
    `    static void zk_io_cb (uv_poll_t *w, int status, int revents) {`,
    `    /** Closes the poll handle, then the duplicate it polled (uv_close removes it from the loop at once). */
    void dropPoll () {
        if (zk_io) {
            uv_close((uv_handle_t*) zk_io, delete_on_close);
            zk_io = NULL;
        }
        #ifndef WIN32
            if (zk_io_fd >= 0) {
                close(zk_io_fd);
                zk_io_fd = -1;
            }
        #endif
    }

    /** Whether the poll handle watches the socket \`socketFd\` names now (not an older socket with its number). */
    bool pollWatches (int socketFd) {
        if (!zk_io) return false;
        #ifdef WIN32
            return true;
        #else
            struct stat st;
            if (fstat(socketFd, &st) != 0) return false;
            return st.st_dev == zk_io_dev && st.st_ino == zk_io_ino;
        #endif
    }

    static void zk_io_cb (uv_poll_t *w, int status, int revents) {`,
  );
  replaceOnce(
    `    ZooKeeper () : zhandle(0), fd(-1) {
#endif`,
    `    ZooKeeper () : zhandle(0), fd(-1), zk_io_fd(-1), zk_io_dev(0), zk_io_ino(0) {
#endif`,
  );
  replaceOnce(
    `    #ifdef WIN32
        SOCKET fd;
    #else
        int fd;
    #endif
`,
    `    #ifdef WIN32
        SOCKET fd;
    #else
        int fd;
        // the addon's own duplicate of fd that zk_io polls, and the socket's identity
        int zk_io_fd;
        dev_t zk_io_dev;
        ino_t zk_io_ino;
    #endif
`,
  );
  fs.writeFileSync(source, text);
  console.log('patch-zookeeper-addon: patched src/node-zk.cpp');
}

// rebuild: node-gyp's Makefile recompiles the changed source and relinks the addon
const built = path.join(dir, 'build', 'Release', 'zookeeper.node');
const makefile = path.join(dir, 'build', 'Makefile');
if (!fs.existsSync(makefile)) {
  console.error(
    'patch-zookeeper-addon: node_modules/zookeeper/build/Makefile is missing (was the addon built from source?)',
  );
  process.exit(1);
}
const before = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
execFileSync('make', ['-C', path.join(dir, 'build'), 'BUILDTYPE=Release'], { stdio: ['ignore', 'ignore', 'inherit'] });
const so = fs.readFileSync(built);
if (!so.includes(Buffer.from('could not duplicate the ZooKeeper socket'))) {
  console.error('patch-zookeeper-addon: the rebuilt addon does not hold the patch');
  process.exit(1);
}
console.log(`patch-zookeeper-addon: addon ${fs.statSync(built).mtimeMs > before ? 'rebuilt' : 'up to date'}`);
