import { describe, expect, it } from 'vitest';
import { messageScanner } from '../../db/silent-connections.js';

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function startup(): Buffer {
  const body = Buffer.from('\0\x03\0\0user\0postgres\0\0', 'latin1');
  const header = Buffer.alloc(4);
  header.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([header, body]);
}

describe('counting protocol messages in a byte stream', () => {
  // A parse/bind/execute/sync pipeline of two statements, a simple query, and a message whose
  // body holds bytes that look like type letters.
  const frontend = Buffer.concat([
    startup(),
    message('P', Buffer.from('\0select $1\0\0\0', 'latin1')),
    message('B', Buffer.from('\0\0\0\0\0\x01\0\0\0\x01Z\0\0', 'latin1')),
    message('E', Buffer.from('\0\0\0\0\0', 'latin1')),
    message('S', Buffer.alloc(0)),
    message('Q', Buffer.from('select 1\0', 'latin1')),
    message('d', Buffer.alloc(70_000, 0x53)),
    message('S', Buffer.alloc(0)),
  ]);
  const expected = ['P', 'B', 'E', 'S', 'Q', 'd', 'S'];

  it('reads every type whole, the startup packet (no type byte) skipped', () => {
    const types: string[] = [];
    messageScanner(true, (type) => types.push(String.fromCharCode(type)))(frontend);
    expect(types).toEqual(expected);
  });

  it('reads the same types whatever the stream is cut into', () => {
    for (const size of [1, 2, 3, 4, 5, 7, 13, 64, 1000]) {
      const types: string[] = [];
      const scan = messageScanner(true, (type) => types.push(String.fromCharCode(type)));
      for (let at = 0; at < frontend.length; at += size) scan(frontend.subarray(at, at + size));
      expect(types, `cut every ${size} bytes`).toEqual(expected);
    }
  });

  it('counts a backend stream, where every message has a type', () => {
    const backend = Buffer.concat([message('1', Buffer.alloc(0)), message('2', Buffer.alloc(0)), message('D', Buffer.from('\0\x01\0\0\0\x01Z')), message('C', Buffer.from('SELECT 1\0')), message('Z', Buffer.from('I'))]);
    const types: string[] = [];
    const scan = messageScanner(false, (type) => types.push(String.fromCharCode(type)));
    for (let at = 0; at < backend.length; at += 3) scan(backend.subarray(at, at + 3));
    expect(types).toEqual(['1', '2', 'D', 'C', 'Z']);
  });
});
