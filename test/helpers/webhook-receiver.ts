import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; createdAt: string; ticket: Record<string, unknown> | null; data: Record<string, unknown>; [key: string]: unknown };
  /** What the receiver answered; null: it never answered (hung). */
  status: number | null;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** What to answer the next request with: a status code (with headers), or 'hang' to never answer. */
  answer: (request: ReceivedWebhook) => number | { status: number; headers: Record<string, string> } | 'hang';
  close(): Promise<void>;
}

/** A real HTTP server standing in for the system mailroom's webhooks call. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const hung = new Set<http.ServerResponse>();
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    answer: () => 200,
    close: () =>
      new Promise((resolve) => {
        for (const response of hung) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: ReceivedWebhook = { headers: request.headers, body, json: JSON.parse(body) as ReceivedWebhook['json'], status: null };
      receiver.received.push(entry);
      const answer = receiver.answer(entry);
      if (answer === 'hang') {
        hung.add(response);
        return;
      }
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      entry.status = status;
      response.writeHead(status, { 'Content-Type': 'text/plain', ...headers }).end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/mailroom`;
  return receiver;
}
