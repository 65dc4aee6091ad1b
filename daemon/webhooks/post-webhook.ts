export type PostOutcome = { delivered: true; statusCode: number } | { delivered: false; statusCode: number | null; error: string };

/**
 * One POST. Only a 2xx delivers: a redirect is not followed (the receiver's address is the
 * admin's to change, not the receiver's) and counts as a failure like any other answer.
 */
export async function postWebhook(url: string, body: string, headers: Record<string, string>, timeoutMs: number, stop: AbortSignal): Promise<PostOutcome> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'mailroom-webhooks', ...headers },
      redirect: 'manual',
      signal: AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]),
    });
    // The body is not needed; reading it frees the connection (a receiver may send a large page).
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { delivered: true, statusCode: response.status };
    return { delivered: false, statusCode: response.status, error: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}` };
  } catch (err) {
    const error = err as Error & { cause?: { code?: string; message?: string } };
    const reason = error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error.cause?.code ?? error.cause?.message ?? error.message);
    return { delivered: false, statusCode: null, error: reason };
  }
}
