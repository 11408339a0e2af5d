/**
 * Roles are data: a role is a name and a set of permissions. Routes and services ask for a permission, never
 * for a role, so adding a role (government, observer, researcher...) is one entry here and no code branches.
 */
export const PERMISSIONS = [
  'hash', // compute signals from media
  'match', // look signals up in visible banks
  'banks:read',
  'banks:write', // create, update, delete, share banks
  'entries:read',
  'entries:write',
  'keys:manage', // create and revoke API keys of the own organisation
  'users:manage', // create people's accounts in the own organisation
  'index:read',
  'audit:read',
  'submissions:write',
  'submissions:read',
  'cases:read',
  'cases:decide',
  'webhooks:manage',
  'media:view', // see (blurred by default) media in the review UI
  'orders:issue', // send removal orders and referrals (organisations of kind authority)
  'orders:read', // see orders and referrals: an authority its own, a platform those addressed to it
  'orders:answer', // answer removal orders (Annex II/III), record referral outcomes
  'appeals:file', // file an appeal on behalf of an affected user
  'appeals:decide',
  'reports:read', // transparency reports of the own organisation
  'settings:manage', // hosts, appeal window, report publication
  'research:own', // data owners: research datasets, researchers' accreditation and budgets, request decisions
  'research:query', // accredited researchers: mock runs, requests, released results
  'crisis:coordinate', // run incidents: protocols, the network, transitions, updates, findings, drills
  'crisis:decide', // assert criteria and record activation decisions (where the protocol gives the org a role)
  'crisis:read', // a participant's view of incidents: acknowledge, report live numbers, read the record
  'crisis:observe', // see incidents; alone (observers) without evidence, media or signals
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Administering the instance (creating organisations, reading every organisation's audit trail) is not an
 * organisation role: no role carries it, however broad. It belongs to keys made by `kaitiaki init` or `kaitiaki
 * admin-key create` on the server itself, and the API can never grant it.
 */
export const INSTANCE_PERMISSIONS = ['instance:organisations', 'instance:audit'] as const;
export type InstancePermission = (typeof INSTANCE_PERMISSIONS)[number];
export type AnyPermission = Permission | InstancePermission;

export const ROLE_PERMISSIONS: Readonly<Record<string, readonly Permission[]>> = {
  admin: PERMISSIONS,
  moderator: [
    'hash',
    'match',
    'banks:read',
    'banks:write',
    'entries:read',
    'entries:write',
    'index:read',
    'submissions:read',
    'cases:read',
    'cases:decide',
    'media:view',
    'orders:read',
    'orders:answer',
    'appeals:decide',
    'reports:read',
    'crisis:decide',
    'crisis:read',
    'crisis:observe',
  ],
  viewer: ['banks:read', 'entries:read', 'index:read', 'submissions:read', 'cases:read', 'crisis:observe'],
  integration: [
    'hash',
    'match',
    'banks:read',
    'entries:read',
    'entries:write',
    'index:read',
    'submissions:write',
    'submissions:read',
    'orders:read',
    'appeals:file',
    'crisis:read',
    'crisis:observe',
  ],
  authority: ['orders:issue', 'orders:read', 'reports:read'],
  researcher: ['research:query'],
  /** Civil-society and human-rights observers of crisis response: never media, signals or evidence. */
  observer: ['crisis:observe'],
};

export const ROLES = Object.keys(ROLE_PERMISSIONS);

export function isRole(role: unknown): role is string {
  return typeof role === 'string' && Object.hasOwn(ROLE_PERMISSIONS, role);
}

export function permissionsOf(role: string, instanceAdmin = false): ReadonlySet<AnyPermission> {
  const granted = new Set<AnyPermission>(ROLE_PERMISSIONS[role] ?? []);
  if (instanceAdmin) for (const permission of INSTANCE_PERMISSIONS) granted.add(permission);
  return granted;
}

/** Who is calling: resolved from an API key or a session, checked by every route. */
export interface Principal {
  orgId: number;
  role: string;
  permissions: ReadonlySet<AnyPermission>;
  /** Set only for instance-administrator keys (see INSTANCE_PERMISSIONS). */
  instanceAdmin?: boolean;
  keyId?: number;
  userId?: number;
  /** How the audit trail names the caller: `key:<id>` or `user:<id>`. */
  label: string;
}
