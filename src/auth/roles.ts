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
  'orgs:manage', // create organisations (instance administrators)
  'index:read',
  'audit:read',
  'submissions:write',
  'submissions:read',
  'cases:read',
  'cases:decide',
  'webhooks:manage',
  'media:view', // see (blurred by default) media in the review UI
  'research:own', // data owners: research datasets, researchers' accreditation and budgets, request decisions
  'research:query', // accredited researchers: mock runs, requests, released results
] as const;
export type Permission = (typeof PERMISSIONS)[number];

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
  ],
  viewer: ['banks:read', 'entries:read', 'index:read', 'submissions:read', 'cases:read'],
  integration: [
    'hash',
    'match',
    'banks:read',
    'entries:read',
    'entries:write',
    'index:read',
    'submissions:write',
    'submissions:read',
  ],
  researcher: ['research:query'],
};

export const ROLES = Object.keys(ROLE_PERMISSIONS);

export function isRole(role: unknown): role is string {
  return typeof role === 'string' && Object.hasOwn(ROLE_PERMISSIONS, role);
}

export function permissionsOf(role: string): ReadonlySet<Permission> {
  return new Set(ROLE_PERMISSIONS[role] ?? []);
}

/** Who is calling: resolved from an API key or a session, checked by every route. */
export interface Principal {
  orgId: number;
  role: string;
  permissions: ReadonlySet<Permission>;
  keyId?: number;
  userId?: number;
  /** Instance administrators belong to the organisation created by `kaitiaki init`. */
  label: string;
}
