/**
 * The ceiling's receiving side, run as its own Node process: listens on
 * 127.0.0.1 (ephemeral port, printed as `{"port":N}`), appends every byte a
 * connection sends to FILE, and when the sender ends its side answers with
 * `{"bytes":N}` and closes. Usage: node --import tsx tcp-sink.ts FILE
 */
import fs from 'node:fs';
import net from 'node:net';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: tcp-sink.ts FILE\n');
  process.exit(2);
}
const fd = fs.openSync(file, 'a');

const server = net.createServer((socket) => {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
    bytes += chunk.length;
  });
  socket.on('end', () => {
    socket.end(JSON.stringify({ bytes }));
    // the next run starts from an empty file (the page cache stays warm, as for a broker's log)
    fs.ftruncateSync(fd, 0);
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    fs.closeSync(fd);
    process.exit(0);
  });
}
