import { headerFieldValue, rawHeaderBlock } from './raw-header.js';
import { normalizeMessageId, parseMessageIdList } from './threading.js';

/**
 * The Message-ID a raw message's conversation started with, read from its header bytes alone (at
 * intake, before any parsing): the first id of References, else of In-Reply-To, else the message's
 * own Message-ID. A reply and the mail it answers share it whenever the reply's client kept the
 * chain, so mail of one conversation can be filed in the order it arrived. Null without any id.
 */
export function conversationKey(raw: Buffer): string | null {
  const block = rawHeaderBlock(raw);
  return (
    parseMessageIdList(headerFieldValue(block, 'References'))[0] ??
    parseMessageIdList(headerFieldValue(block, 'In-Reply-To'))[0] ??
    normalizeMessageId(headerFieldValue(block, 'Message-ID')) ??
    null
  );
}
