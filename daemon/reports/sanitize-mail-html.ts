import sanitizeHtml from 'sanitize-html';

/** An attachment an HTML part may show inline: its download id (`<article>-<position>`) and Content-ID. */
export interface InlineAttachment {
  id: string;
  contentId: string | null;
}

export interface SanitizeMailHtmlOptions {
  /** The article's attachments, for `cid:` images. */
  attachments: readonly InlineAttachment[];
  /** Where the reader fetches attachment `id` (the API's URL, or a data: URI); null: the image is left out. */
  attachmentUrl: (id: string) => string | null;
  /**
   * Keep `http:`/`https:` image sources. Off, a remote image becomes a short text marker: loading it
   * would tell the sender when, from where and with which browser the mail was read.
   * @defaultValue false
   */
  remoteImages?: boolean;
}

/**
 * Tags that lay out mail. Any other tag is dropped with its attributes and its text is kept, except
 * in the tags whose content is code or metadata (NON_TEXT_TAGS), which go whole. No script, style, form,
 * frame, object, embed, svg, math, meta, base or link is ever in the output.
 */
const ALLOWED_TAGS = [
  'a', 'abbr', 'address', 'article', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center', 'cite', 'code',
  'col', 'colgroup', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font', 'footer',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'main', 'mark', 'ol', 'p', 'pre',
  'q', 's', 'samp', 'section', 'small', 'span', 'strike', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td',
  'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
];

// htmlparser2 reads title, textarea and xmp as raw text; with script, style and noscript their
// content is code or metadata, never part of the message a reader should see.
const NON_TEXT_TAGS = ['script', 'style', 'textarea', 'option', 'xmp', 'title', 'noscript', 'noembed', 'noframes'];

/**
 * Presentational attributes only. No `class` or `id` (nothing in the output refers to them), no
 * `background`, `srcset`, `longdesc`, `cite` or any other attribute that names a URL: the only URLs
 * kept are an <a>'s href and an <img>'s src, and both are checked below.
 */
const LAYOUT = ['align', 'valign', 'width', 'height', 'bgcolor', 'border', 'dir', 'lang', 'title', 'style'];
const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  '*': ['dir', 'lang', 'title', 'style', 'align'],
  a: ['href', 'rel', 'target'],
  img: ['src', 'alt', ...LAYOUT],
  table: [...LAYOUT, 'cellpadding', 'cellspacing', 'summary'],
  td: [...LAYOUT, 'colspan', 'rowspan', 'nowrap', 'scope'],
  th: [...LAYOUT, 'colspan', 'rowspan', 'nowrap', 'scope'],
  tr: LAYOUT,
  tbody: LAYOUT,
  thead: LAYOUT,
  tfoot: LAYOUT,
  col: [...LAYOUT, 'span'],
  colgroup: [...LAYOUT, 'span'],
  div: LAYOUT,
  p: LAYOUT,
  hr: LAYOUT,
  font: ['color', 'face', 'size'],
  ol: ['start', 'type', 'reversed'],
  ul: ['type'],
  li: ['value', 'type'],
  bdo: ['dir'],
  details: ['open'],
};

/*
 * Inline styles: a property allow-list with values of words, numbers, colours and quoted font names
 * only. No parenthesis except rgb()/hsl() colours, so no url(), image-set(), expression() or var();
 * no backslash, so no CSS escapes that spell them; no position or z-index, so nothing overlays
 * outside the mail's own flow. <style> blocks go whole (NON_TEXT_TAGS): a stylesheet can @import,
 * load fonts and images from any rule, and restyle the page of whoever embeds the API's `html`.
 */
const CSS_VALUE = /^(?:[-+#%.,\w\s'"!/]|(?:rgba?|hsla?)\([\d\s.,%/a-z]*\))*$/i;
const CSS_PROPERTIES = [
  'color', 'background', 'background-color', 'font', 'font-family', 'font-size', 'font-style', 'font-weight', 'font-variant',
  'text-align', 'text-decoration', 'text-indent', 'text-transform', 'line-height', 'letter-spacing', 'word-spacing',
  'white-space', 'vertical-align', 'direction', 'width', 'min-width', 'max-width', 'height', 'min-height', 'max-height',
  'margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left', 'padding', 'padding-top', 'padding-right',
  'padding-bottom', 'padding-left', 'border', 'border-top', 'border-right', 'border-bottom', 'border-left', 'border-color',
  'border-style', 'border-width', 'border-radius', 'border-collapse', 'border-spacing', 'table-layout', 'list-style-type',
];
const ALLOWED_STYLES = {
  '*': {
    ...Object.fromEntries(CSS_PROPERTIES.map((property) => [property, [CSS_VALUE]])),
    display: [/^(?:none|block|inline|inline-block|table|table-row|table-cell|list-item)$/i],
  },
};

/*
 * Inline images as data: URIs (a pasted screenshot) load nothing and are kept, but only as the
 * raster types a browser decodes as an image and nothing else; SVG is left out because the API's
 * `html` may be placed where an SVG document would run.
 */
const DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp);base64,[a-z0-9+/=\s]*$/i;
const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/**
 * Characters of an HTML part sanitized; the rest is cut. Sanitizing is synchronous and costs about
 * 0.3 s for a megabyte of dense table markup, so a larger part would hold the event loop for every
 * reader; 1 MB is already ten times what mail clients clip at.
 */
export const MAX_HTML_CHARS = 1_000_000;

/**
 * The HTML part of a customer's mail made safe to show: only the layout tags and attributes
 * above, links opening in a new tab without a referrer and only to http, https and mailto,
 * `cid:` images pointing at the article's attachment (an unmatched one removed), remote images
 * removed unless asked for. What comes out is re-serialised by the sanitizer, so malformed or
 * nested markup cannot reopen what was removed.
 */
export function sanitizeMailHtml(dirty: string, options: SanitizeMailHtmlOptions): string {
  const byContentId = new Map<string, string>();
  for (const attachment of options.attachments) {
    if (attachment.contentId && !byContentId.has(attachment.contentId)) byContentId.set(attachment.contentId, attachment.id);
  }
  const imageSource = (src: string): { src: string } | { remote: true } | null => {
    const value = src.trim();
    if (/^cid:/i.test(value)) {
      // RFC 2392: a cid: URL is the Content-ID percent-encoded, without its angle brackets.
      const raw = value.slice(4);
      const id = byContentId.get(raw) ?? byContentId.get(safeDecode(raw) ?? '');
      const src = id === undefined ? null : options.attachmentUrl(id);
      return src === null ? null : { src };
    }
    if (DATA_IMAGE.test(value)) return { src: value.replace(/\s+/g, '') };
    const url = absoluteUrl(value);
    if (url && (url.protocol === 'https:' || url.protocol === 'http:')) return options.remoteImages ? { src: url.href } : { remote: true };
    return null; // relative paths (they would resolve against our own origin), javascript:, file:, …
  };

  const cut = dirty.length > MAX_HTML_CHARS;
  const clean = sanitizeHtml(cut ? dirty.slice(0, MAX_HTML_CHARS) : dirty, {
    allowedTags: ALLOWED_TAGS,
    nonTextTags: NON_TEXT_TAGS,
    disallowedTagsMode: 'discard',
    allowedAttributes: ALLOWED_ATTRIBUTES,
    allowedStyles: ALLOWED_STYLES,
    // Checked again by the library after the transforms below, which already allow only these.
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    allowProtocolRelative: false,
    enforceHtmlBoundary: false,
    transformTags: {
      a: (_tag, attribs): sanitizeHtml.Tag => {
        const url = absoluteUrl(attribs.href ?? '');
        const href: sanitizeHtml.Attributes = url && LINK_SCHEMES.has(url.protocol) ? { href: url.href } : {};
        return { tagName: 'a', attribs: { ...pick(attribs, ['title', 'dir', 'lang', 'style']), ...href, rel: 'noopener noreferrer', target: '_blank' } };
      },
      img: (_tag, attribs): sanitizeHtml.Tag => {
        const source = imageSource(attribs.src ?? '');
        // Not an allowed tag: dropped with nothing in its place.
        if (source === null) return { tagName: 'removed-image', attribs: {} };
        if ('remote' in source) {
          const alt = (attribs.alt ?? '').trim().slice(0, 100);
          return { tagName: 'span', attribs: { title: 'remote image not loaded' }, text: alt ? `[image: ${alt}]` : '[image]' };
        }
        return { tagName: 'img', attribs: { ...attribs, src: source.src } };
      },
    },
  });
  // After sanitizing, which closed whatever the cut left open.
  return cut ? `${clean}<p>[The HTML part is cut here: it is longer than ${MAX_HTML_CHARS.toLocaleString('en')} characters.]</p>` : clean;
}

/** The URL when `value` is absolute; the URL parser drops the tabs, newlines and leading controls a browser would, so `java\tscript:` is seen as javascript:. */
function absoluteUrl(value: string): URL | null {
  if (!URL.canParse(value)) return null;
  return new URL(value);
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null; // a malformed escape is no Content-ID we stored; the raw form was tried already
  }
}

function pick(attribs: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.filter((name) => attribs[name] !== undefined).map((name) => [name, attribs[name]!]));
}
