/**
 * The only error handed to smtp-server: an explicit reply code, never its defaults. smtp-server
 * adds the enhanced status (RFC 3463) from the code: 550→5.1.1, 451→4.3.0, 421→4.4.2.
 */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(responseCode: number, message: string) {
    super(message);
    this.name = 'SmtpReplyError';
    this.responseCode = responseCode;
  }
}
