import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TcpFaultProxy } from './tcp-fault-proxy.js';

const logger = pino({ level: 'silent' });
let echo: Server;
let proxy: TcpFaultProxy;
let proxyPort: number;
const sockets: Socket[] = [];

beforeEach(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
  proxy = new TcpFaultProxy({ targetPort: (echo.address() as AddressInfo).port, logger });
  proxyPort = await proxy.listen();
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await proxy.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxyPort }, () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** Sends text and resolves with the echo and how long it took, or 'closed'. */
function roundTrip(socket: Socket, text: string): Promise<{ reply: string; ms: number } | 'closed'> {
  const started = Date.now();
  return new Promise((resolve) => {
    let reply = '';
    const onData = (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.length >= text.length) {
        socket.off('data', onData);
        resolve({ reply, ms: Date.now() - started });
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve('closed'));
    socket.write(text);
  });
}

describe('TcpFaultProxy', () => {
  it('forwards bytes unchanged', async () => {
    const socket = await open();
    const result = await roundTrip(socket, 'hello broker');
    expect(result).not.toBe('closed');
    expect((result as { reply: string }).reply).toBe('hello broker');
  });

  it('cut closes links and refuses new ones', async () => {
    const socket = await open();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    proxy.cut(300);
    await closed;
    expect(proxy.counters.cuts).toBe(1);

    const refused = await open();
    expect(await roundTrip(refused, 'x')).toBe('closed');

    await new Promise((resolve) => setTimeout(resolve, 350));
    const again = await open();
    expect(await roundTrip(again, 'back')).toEqual(expect.objectContaining({ reply: 'back' }));
  });

  it('stall holds bytes without closing', async () => {
    const socket = await open();
    proxy.stall(300);
    const result = await roundTrip(socket, 'held');
    expect(result).not.toBe('closed');
    expect((result as { ms: number }).ms).toBeGreaterThanOrEqual(250);
  });

  it('slow delays each chunk', async () => {
    const socket = await open();
    proxy.slow(100, 1_000);
    const result = await roundTrip(socket, 'slow');
    expect(result).not.toBe('closed');
    expect((result as { ms: number }).ms).toBeGreaterThanOrEqual(180);
  });
});
