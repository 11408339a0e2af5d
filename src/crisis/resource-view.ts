/** Intervention resources as the API shows them (in the incident view and on their own). */
import type { ResourceRow } from '../store/crisis-notifications.js';

export interface ResourceView {
  id: number;
  activation_id: number;
  kind: string;
  locale: string;
  title: string;
  url: string | null;
  message: string | null;
  created_by: string;
  created_at: string;
}

export function resourceView(row: ResourceRow): ResourceView {
  return {
    id: row.id,
    activation_id: row.activation_id,
    kind: row.kind,
    locale: row.locale,
    title: row.title,
    url: row.url,
    message: row.message,
    created_by: row.created_by,
    created_at: row.created_at,
  };
}
