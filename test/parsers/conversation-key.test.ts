import { describe, expect, it } from 'vitest';
import { conversationKey } from '../../parsers/conversation-key.js';

const mail = (headers: string[]) => Buffer.from([...headers, 'Subject: x', '', 'References: <not-a-header@body>', ''].join('\r\n'));

describe('conversationKey', () => {
  it('is the first id of References, the root of the thread', () => {
    expect(conversationKey(mail(['Message-ID: <c@x>', 'In-Reply-To: <b@x>', 'References: <a@x>\r\n <b@x>']))).toBe('a@x');
  });
  it('falls back to In-Reply-To, then to the message’s own Message-ID', () => {
    expect(conversationKey(mail(['Message-ID: <c@x>', 'In-Reply-To: <b@x>']))).toBe('b@x');
    expect(conversationKey(mail(['Message-ID: <c@x>']))).toBe('c@x');
  });
  it('gives an opener and every reply that kept the chain the same key', () => {
    const opener = conversationKey(mail(['Message-ID: <open@client>']));
    const reply = conversationKey(mail(['Message-ID: <r1@client>', 'In-Reply-To: <ack@mailroom>', 'References: <open@client> <ack@mailroom>']));
    expect(reply).toBe(opener);
  });
  it('reads only the header block, and is null without any id', () => {
    expect(conversationKey(mail([]))).toBeNull();
    expect(conversationKey(Buffer.from('Subject: x\n\nMessage-ID: <in-body@x>\n'))).toBeNull();
  });
});
