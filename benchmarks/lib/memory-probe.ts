/**
 * Preloaded into a broker by benchmarks/memory-attack.ts (`node --import
 * ./benchmarks/lib/memory-probe.ts`), never by the product: on SIGUSR2 it runs
 * a full garbage collection and prints one JSON line with process.memoryUsage()
 * before and after it. That tells a leak (heapUsed / arrayBuffers stay high
 * after a GC) from allocator retention (they fall, RSS does not).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function usage(): Record<string, number> {
  const u = process.memoryUsage();
  return {
    rss: u.rss,
    heapTotal: u.heapTotal,
    heapUsed: u.heapUsed,
    external: u.external,
    arrayBuffers: u.arrayBuffers,
  };
}

process.on('SIGUSR2', () => {
  const before = usage();
  // twice: the first pass may only schedule finalizers of external memory
  gc();
  gc();
  const after = usage();
  process.stdout.write(`${JSON.stringify({ msg: 'memory probe', before, after })}\n`);
});
