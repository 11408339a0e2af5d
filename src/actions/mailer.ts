/**
 * E-mail out, for channels that reach people rather than systems (a crisis contact without a webhook). One SMTP
 * server, the operator's (KAITIAKI_SMTP_URL: smtp://user:pass@host:587 or smtps://…:465), through nodemailer.
 */
import { createTransport } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

export function smtpMailer(url: string, from: string): Mailer {
  const transport = createTransport({
    url,
    // A slow or silent server fails the attempt; the outbox retries it later.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      await transport.sendMail({ from, ...mail });
    },
  };
}
