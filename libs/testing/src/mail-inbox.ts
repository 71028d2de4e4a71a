export interface ReceivedMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Record<string, unknown>;
  receivedAt: string;
}

/** Reads what the local SMTP sink received (a real SMTP server; see deploy/local/mail). */
export class MailInbox {
  constructor(private readonly apiUrl: string) {}

  async list(to?: string): Promise<ReceivedMail[]> {
    const url = new URL('/messages', this.apiUrl);
    if (to) url.searchParams.set('to', to);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`mail API answered ${response.status}`);
    return (await response.json()) as ReceivedMail[];
  }

  async clear(): Promise<void> {
    await fetch(new URL('/messages', this.apiUrl), { method: 'DELETE' });
  }
}
