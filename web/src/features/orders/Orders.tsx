import { type FormEvent, useState } from 'react';
import { api, ApiError } from '../../api/client';
import { useLoad, useScreen } from '../../app/hooks';
import { Countdown } from '../review/Countdown';

/** Art. 2(7) TCO: the kinds of terrorist content an order names (letters a-e). */
const CONTENT_TYPES: [string, string][] = [
  ['a', 'incites the commission of terrorist offences (incl. glorification)'],
  ['b', 'solicits committing or contributing to terrorist offences'],
  ['c', "solicits participation in a terrorist group's activities"],
  ['d', 'instructs on weapons, explosives or other methods for terrorist offences'],
  ['e', 'threatens to commit a terrorist offence'],
];

interface OrderRow {
  id: number;
  reference: string;
  platform_org_id: number;
  member_state: string;
  received_at: string;
  deadline_at: string;
  status: string;
  escalation: string | null;
  annex_ii: { action: string; actioned_at: string; late: boolean } | null;
  annex_iii: { ground: string } | null;
  preserve_until: string | null;
}

interface ReferralRow {
  id: number;
  reference: string;
  platform_org_id: number;
  received_at: string;
  outcome: string;
  basis_used: string | null;
}

type Errors = Record<string, string>;

const LABELS: Record<string, string> = {
  platform_org_id: 'Platform (organisation id)',
  reference: 'Order reference',
  authority_name: 'Issuing authority',
  member_state: 'Member State',
  content_types: 'Type of terrorist content (Art. 2(7))',
  reasons: 'Statement of reasons',
  items: 'Content: URLs or content ids',
  legal_basis: 'Legal basis',
  signed_at: 'Signed at',
  signature: 'Electronic signature',
  redress: 'Redress information',
  non_disclosure_until: 'Non-disclosure until (Art. 11(3), optional)',
  basis_cited: 'Terms or law cited',
};

const ORDER_REQUIRED = [
  'platform_org_id',
  'reference',
  'authority_name',
  'member_state',
  'content_types',
  'reasons',
  'items',
  'legal_basis',
  'signed_at',
  'signature',
  'redress',
];
const REFERRAL_REQUIRED = ['platform_org_id', 'reference', 'items', 'basis_cited', 'reasons'];

function parseItems(text: string): { url?: string; external_id?: string }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => (/^https?:\/\//i.test(line) ? { url: line } : { external_id: line }));
}

/** datetime-local ("2026-12-03T10:15") in the browser's zone → ISO 8601 instant. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : '');

/** What the form checks before sending (the server checks again and names fields the same way). */
export function checkForm(kind: 'order' | 'referral', form: FormData): Errors {
  const errors: Errors = {};
  const required = kind === 'order' ? ORDER_REQUIRED : REFERRAL_REQUIRED;
  for (const field of required) {
    const value = field === 'content_types' ? form.getAll(field).join('') : String(form.get(field) ?? '');
    if (!value.trim())
      errors[field] =
        kind === 'order' ? `${LABELS[field]} is required by Annex I.` : `${LABELS[field]} is required.`;
  }
  const state = String(form.get('member_state') ?? '');
  if (kind === 'order' && state && !/^[A-Z]{2}$/.test(state))
    errors.member_state = 'Member State: two capital letters, e.g. DE.';
  const platform = String(form.get('platform_org_id') ?? '');
  if (platform && !/^\d+$/.test(platform))
    errors.platform_org_id = 'Platform: an organisation id (a number).';
  for (const item of parseItems(String(form.get('items') ?? '')))
    if (item.url) {
      try {
        new URL(item.url);
      } catch {
        errors.items = `"${item.url}" is not a URL.`;
      }
    }
  return errors;
}

/** Server problems mapped to the form's fields (the rest shown above the form). */
function fieldErrors(e: unknown): { fields: Errors; general: string | null } {
  if (!(e instanceof ApiError)) return { fields: {}, general: e instanceof Error ? e.message : String(e) };
  const fields: Errors = {};
  for (const p of e.errors) {
    const field = p.path.replace(/^body\/?/, '').split('/')[0];
    if (field) fields[field] = `${LABELS[field] ?? field}: ${p.message}.`;
  }
  if (e.code === 'KAI_ERR_ORDER_WRONG_PLATFORM')
    fields[/platform_org_id/.test(e.message) ? 'platform_org_id' : 'items'] = e.message;
  if (e.code === 'KAI_ERR_ORDER_NON_DISCLOSURE') fields.non_disclosure_until = e.message;
  if (e.code === 'KAI_ERR_ORDER_EXISTS' || e.code === 'KAI_ERR_REFERRAL_EXISTS') fields.reference = e.message;
  return { fields, general: Object.keys(fields).length ? null : e.message };
}

function Field({
  name,
  errors,
  children,
}: {
  name: string;
  errors: Errors;
  children: (props: {
    id: string;
    name: string;
    'aria-invalid': boolean;
    'aria-describedby'?: string;
  }) => React.ReactNode;
}) {
  const id = `order-${name}`;
  const error = errors[name];
  return (
    <div className="field">
      <label htmlFor={id}>{LABELS[name]}</label>
      {children({
        id,
        name,
        'aria-invalid': !!error,
        ...(error ? { 'aria-describedby': `${id}-error` } : {}),
      })}
      {error && (
        <p id={`${id}-error`} className="error field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * Removal orders and referrals. An authority sends them (Annex I form) and follows its own; a platform sees those
 * addressed to it. Each running order shows its one-hour countdown.
 */
export function Orders({ canIssue }: { canIssue: boolean }) {
  const heading = useScreen(canIssue ? 'Removal orders and referrals' : 'Removal orders');
  const [kind, setKind] = useState<'order' | 'referral'>('order');
  const [errors, setErrors] = useState<Errors>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  const orders = useLoad(() => api<{ items: OrderRow[] }>('GET', '/v1/orders?limit=50'), []);
  const referrals = useLoad(() => api<{ items: ReferralRow[] }>('GET', '/v1/referrals?limit=50'), []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const found = checkForm(kind, form);
    setErrors(found);
    setSent(null);
    if (Object.keys(found).length > 0) {
      setGeneral(`Please correct ${Object.keys(found).length} field(s) marked below.`);
      const first = Object.keys(found)[0];
      (formElement.querySelector(`[name="${first}"]`) as HTMLElement | null)?.focus();
      return;
    }
    setGeneral(null);
    const common = {
      platform_org_id: Number(form.get('platform_org_id')),
      reference: String(form.get('reference')),
      items: parseItems(String(form.get('items'))),
      reasons: String(form.get('reasons')),
    };
    try {
      if (kind === 'order') {
        const nonDisclosure = toIso(String(form.get('non_disclosure_until') ?? ''));
        const order = await api<OrderRow>('POST', '/v1/orders', {
          ...common,
          authority_name: String(form.get('authority_name')),
          member_state: String(form.get('member_state')),
          content_types: form.getAll('content_types').map(String),
          legal_basis: String(form.get('legal_basis')),
          signed_at: toIso(String(form.get('signed_at'))),
          signature: String(form.get('signature')),
          redress: String(form.get('redress')),
          cross_border: form.get('cross_border') === 'on',
          ...(nonDisclosure ? { non_disclosure_until: nonDisclosure } : {}),
        });
        setSent(
          `Order ${order.reference} received at ${new Date(order.received_at).toLocaleString()}; the one-hour clock runs.`,
        );
        orders.reload();
      } else {
        const referral = await api<ReferralRow>('POST', '/v1/referrals', {
          ...common,
          basis_cited: String(form.get('basis_cited')),
        });
        setSent(`Referral ${referral.reference} received.`);
        referrals.reload();
      }
      formElement.reset();
    } catch (e) {
      const mapped = fieldErrors(e);
      setErrors(mapped.fields);
      setGeneral(
        mapped.general ?? `Please correct ${Object.keys(mapped.fields).length} field(s) marked below.`,
      );
    }
  };

  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title" ref={heading} tabIndex={-1}>
        {canIssue ? 'Removal orders and referrals' : 'Removal orders'}
      </h1>
      {canIssue && (
        <form
          className="order-form"
          onSubmit={submit}
          noValidate
          aria-label="Send a removal order or referral"
        >
          <fieldset>
            <legend>Send</legend>
            <label className="choice">
              <input
                type="radio"
                name="kind"
                checked={kind === 'order'}
                onChange={() => (setKind('order'), setErrors({}), setGeneral(null))}
              />
              a removal order (TCO Art. 3: removal within one hour)
            </label>
            <label className="choice">
              <input
                type="radio"
                name="kind"
                checked={kind === 'referral'}
                onChange={() => (setKind('referral'), setErrors({}), setGeneral(null))}
              />
              a referral (voluntary, under the platform&apos;s terms)
            </label>
          </fieldset>
          {general && (
            <p role="alert" className="error">
              {general}
            </p>
          )}
          {sent && (
            <p role="status" className="notice">
              {sent}
            </p>
          )}
          <Field name="platform_org_id" errors={errors}>
            {(p) => <input {...p} inputMode="numeric" />}
          </Field>
          <Field name="reference" errors={errors}>
            {(p) => <input {...p} maxLength={200} />}
          </Field>
          {kind === 'order' && (
            <>
              <Field name="authority_name" errors={errors}>
                {(p) => <input {...p} maxLength={300} />}
              </Field>
              <Field name="member_state" errors={errors}>
                {(p) => <input {...p} maxLength={2} size={3} autoCapitalize="characters" />}
              </Field>
              <fieldset
                className="field"
                aria-invalid={!!errors.content_types}
                aria-describedby={errors.content_types ? 'order-content_types-error' : undefined}
              >
                <legend>{LABELS.content_types}</legend>
                {CONTENT_TYPES.map(([letter, text]) => (
                  <label key={letter} className="choice">
                    <input type="checkbox" name="content_types" value={letter} /> ({letter}) {text}
                  </label>
                ))}
                {errors.content_types && (
                  <p id="order-content_types-error" className="error field-error">
                    {errors.content_types}
                  </p>
                )}
              </fieldset>
            </>
          )}
          <Field name="items" errors={errors}>
            {(p) => <textarea {...p} rows={3} placeholder="https://… (one per line), or a content id" />}
          </Field>
          <Field name="reasons" errors={errors}>
            {(p) => <textarea {...p} rows={3} maxLength={5000} />}
          </Field>
          {kind === 'order' ? (
            <>
              <Field name="legal_basis" errors={errors}>
                {(p) => <input {...p} defaultValue="Regulation (EU) 2021/784, Art. 3" maxLength={500} />}
              </Field>
              <Field name="signed_at" errors={errors}>
                {(p) => <input {...p} type="datetime-local" />}
              </Field>
              <Field name="signature" errors={errors}>
                {(p) => <input {...p} maxLength={10000} />}
              </Field>
              <Field name="redress" errors={errors}>
                {(p) => <textarea {...p} rows={2} maxLength={2000} />}
              </Field>
              <Field name="non_disclosure_until" errors={errors}>
                {(p) => <input {...p} type="datetime-local" />}
              </Field>
              <label className="choice">
                <input type="checkbox" name="cross_border" /> Cross-border order (Art. 4: the platform&apos;s
                Member State may scrutinise it)
              </label>
            </>
          ) : (
            <Field name="basis_cited" errors={errors}>
              {(p) => <input {...p} maxLength={500} />}
            </Field>
          )}
          <button type="submit">{kind === 'order' ? 'Send removal order' : 'Send referral'}</button>
        </form>
      )}

      <h2>{canIssue ? 'Orders sent' : 'Orders received'}</h2>
      {orders.error && (
        <p role="alert" className="error">
          {orders.error}
        </p>
      )}
      <table>
        <caption className="visually-hidden">Removal orders, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Reference</th>
            <th scope="col">{canIssue ? 'Platform' : 'Member State'}</th>
            <th scope="col">Received</th>
            <th scope="col">Status</th>
            <th scope="col">Clock</th>
          </tr>
        </thead>
        <tbody>
          {(orders.data?.items ?? []).map((o) => (
            <tr key={o.id} className={o.status === 'open' ? 'urgent' : undefined}>
              <td>{o.reference}</td>
              <td>{canIssue ? o.platform_org_id : o.member_state}</td>
              <td>
                <time dateTime={o.received_at}>{new Date(o.received_at).toLocaleString()}</time>
              </td>
              <td>
                {o.annex_ii
                  ? `${o.annex_ii.action}${o.annex_ii.late ? ' (late)' : ''}`
                  : o.annex_iii
                    ? `cannot comply: ${o.annex_iii.ground.replace(/_/g, ' ')}`
                    : o.status}
              </td>
              <td>{o.status === 'open' ? <Countdown due={o.deadline_at} live /> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {orders.data?.items.length === 0 && <p className="muted">No removal orders yet.</p>}

      <h2>{canIssue ? 'Referrals sent' : 'Referrals received'}</h2>
      <table>
        <caption className="visually-hidden">Referrals, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Reference</th>
            <th scope="col">Received</th>
            <th scope="col">Outcome</th>
            <th scope="col">Basis used</th>
          </tr>
        </thead>
        <tbody>
          {(referrals.data?.items ?? []).map((r) => (
            <tr key={r.id}>
              <td>{r.reference}</td>
              <td>
                <time dateTime={r.received_at}>{new Date(r.received_at).toLocaleString()}</time>
              </td>
              <td>{r.outcome}</td>
              <td>{r.basis_used ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {referrals.data?.items.length === 0 && <p className="muted">No referrals yet.</p>}
    </section>
  );
}
