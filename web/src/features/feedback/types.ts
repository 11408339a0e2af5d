/** Feedback on shared signals, as the API answers it (src/http/routes/feedback.ts). */
import { ApiError } from '../../api/client';

export type FeedbackKind = 'confirm' | 'false_positive' | 'seen';

export const KIND_LABEL: Record<string, string> = {
  confirm: 'Confirm',
  false_positive: 'False positive',
  seen: 'Seen',
};

export interface Opinions {
  confirm: number;
  false_positive: number;
  seen: number;
}

/** GET /v1/signals/:id/feedback: the organisation's own opinion and everyone's counts. */
export interface OwnFeedback {
  entry_id: number;
  status: string;
  opinions: Opinions;
  mine: { kind: string; reason: string | null; source: string; updated_at: string } | null;
}

/** One item of GET /v1/banks/:id/feedback (the owner's view). */
export interface FeedbackItem {
  entry_id: number;
  organisation_id: number;
  organisation_name: string;
  kind: string;
  reason: string | null;
  /** `api` (said by a person or a platform), `appeal` (a reversed decision), `flood` (flood control). */
  source: string;
  created_at: string;
  updated_at: string;
}

export interface DisputedEntry {
  id: number;
  signal_type: string;
  value: string;
  labels: string[];
  status: string;
}

/** "Not recorded (404): signal 9 not found": what the server said, with its status. */
export function failureText(prefix: string, e: unknown): string {
  const status = e instanceof ApiError ? ` (${e.status})` : '';
  return `${prefix}${status}: ${e instanceof Error ? e.message : String(e)}`;
}
