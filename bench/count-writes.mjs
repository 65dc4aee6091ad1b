// Bench-only instrumentation, loaded with `node --import ./bench/count-writes.mjs`: counts the
// socket writes (≈ request round trips) and bytes a process sends per remote port, and prints
// them as one JSON line on stderr when it exits: {"socket_writes":{"5432":{"writes","bytes"},...}}.
import net from 'node:net';

const counts = {};
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function countedWrite(chunk, ...rest) {
  const port = this.remotePort ?? 'local';
  const c = (counts[port] ??= { writes: 0, bytes: 0 });
  c.writes += 1;
  c.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk?.length ?? 0;
  return write.call(this, chunk, ...rest);
};
process.on('exit', () => {
  process.stderr.write(`${JSON.stringify({ socket_writes: counts })}\n`);
});
