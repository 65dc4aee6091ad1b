/**
 * A recorded corpus of customer conversations, generated from a fixed seed so that every run
 * writes exactly the same mails: first messages that give some of the details the shipped
 * examples ask for, follow-ups that give more (threaded or not), out-of-office answers, secrets
 * pasted by mistake, messages too short to act on. Used to hold the rule decisions still while
 * the pipeline's machinery changes.
 */
import { Rng } from './fuzz.js';

export interface ConversationMail {
  subject: string;
  body: string;
  /** Which earlier mail of the conversation this one answers (its In-Reply-To), if any. */
  inReplyTo?: number;
  headers?: Record<string, string>;
}

export interface Conversation {
  id: string;
  language: 'en' | 'es';
  from: string;
  to: string;
  mails: ConversationMail[];
}

const ENGLISH = {
  to: 'support@example.com',
  openings: [
    { subject: 'Chat widget not loading', text: 'Hello, since yesterday the chat widget does not load on our site.' },
    { subject: 'Invoice question', text: 'Hi, I was charged twice on my last invoice, can you refund one payment?' },
    { subject: 'Feature request: dark mode', text: 'It would be great if you could add a dark mode to the widget.' },
    { subject: "Can't log in", text: 'I cannot log in to my account since the password reset, please help.' },
    { subject: 'Question', text: 'Hello, I have a question about your product and how it works for teams.' },
    { subject: 'Widget broken after update', text: 'The embed snippet stopped working after we updated our theme. Nothing shows.' },
  ],
  details: [
    'Our site is https://shop.example.net/pricing',
    'project: Acme Shop',
    'Steps: 1. open the pricing page 2. click the chat bubble 3. nothing happens',
    'I use Chrome 122 on a Windows 11 laptop.',
    'Safari on my iPhone.',
    'The console says: Uncaught TypeError: cannot read properties of undefined',
    'There is no error message, the console is empty.',
    'Firefox 125, Ubuntu desktop.',
  ],
  followUps: ['Here is more information:', 'Sorry, I forgot to say:', 'As you asked:'],
  secret: 'my password is Summer2026! if you need to check',
  short: 'help',
  outOfOffice: { subject: 'Out of office', text: 'I am out of the office until Monday and will answer your message then.' },
};

const SPANISH = {
  to: 'soporte@example.com',
  openings: [
    { subject: 'No me llegan los envíos', text: 'Hola, desde la campaña de primavera los contactos no reciben los correos.' },
    { subject: 'Factura duplicada', text: 'Buenas, me habéis cobrado dos veces la factura de este mes.' },
    { subject: 'Consulta', text: 'Hola, quería preguntar cómo funciona la importación de contactos.' },
    { subject: 'Error al enviar la campaña', text: 'Al enviar la campaña aparece un error y no se envía nada.' },
  ],
  details: [
    'Qué ocurre: ningún contacto de la lista Clientes recibe los correos.',
    'Cuándo: desde el lunes.',
    'Dónde: Campañas > Email > Informes.',
    'Cómo: creé el envío, seleccioné la lista Clientes y pulsé Enviar.',
    'Cuenta: 123456',
    'Subcuenta: 7890',
    'Nº de cuenta 654321, subcuenta ninguna',
  ],
  followUps: ['Os paso los datos:', 'Perdón, se me olvidó:', 'Lo que me pedís:'],
  secret: 'la contraseña: Verano2026!',
  short: 'ayuda',
  outOfOffice: { subject: 'Respuesta automática: fuera de la oficina', text: 'Estoy fuera de la oficina hasta el lunes y responderé entonces.' },
};

/** `count` conversations, about three in five in English; the same list for the same seed. */
export function recordedConversations(count = 200, seed = 20261204): Conversation[] {
  const rng = new Rng(seed);
  const next = () => rng.next();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const some = (list: readonly string[], most: number): string[] => list.filter(() => next() < most / list.length);
  const conversations: Conversation[] = [];
  for (let i = 0; i < count; i += 1) {
    const language = next() < 0.6 ? 'en' : 'es';
    const words = language === 'en' ? ENGLISH : SPANISH;
    const opening = pick(words.openings);
    const kind = next();
    const first: ConversationMail =
      kind < 0.06
        ? { subject: opening.subject, body: words.short }
        : { subject: opening.subject, body: [opening.text, ...some(words.details, 2.5), ...(kind < 0.12 ? [words.secret] : [])].join('\n') };
    const mails: ConversationMail[] = [first];
    const followUps = Math.floor(next() * 3);
    for (let f = 0; f < followUps; f += 1) {
      const style = next();
      if (style < 0.15) {
        mails.push({ subject: words.outOfOffice.subject, body: words.outOfOffice.text, inReplyTo: 0, headers: { 'Auto-Submitted': 'auto-replied' } });
      } else {
        const body = [pick(words.followUps), ...some(words.details, 2)].join('\n');
        // Most answer in the thread; some write anew with the same subject, as a phone's mail app can.
        mails.push(style < 0.85 ? { subject: `Re: ${opening.subject}`, body, inReplyTo: mails.length - 1 } : { subject: `Re: ${opening.subject}`, body });
      }
    }
    conversations.push({ id: `c${String(i).padStart(3, '0')}`, language, from: `customer${i}@client${i}.example.org`, to: words.to, mails });
  }
  return conversations;
}
