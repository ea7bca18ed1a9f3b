import { createHmac, timingSafeEqual } from 'node:crypto';

/** Prefix of every session credential (`rls1.<sessionId>.<mac>`); the admin token never has it (it has no dots). */
export const SESSION_CREDENTIAL_PREFIX = 'rls1.';

const mac = (secret: string, sessionId: string): string =>
  createHmac('sha256', secret).update(`runledger session credential v1\0${sessionId}`).digest('base64url');

/**
 * The credential an agent of `sessionId` holds instead of the admin token (invariant 16): an HMAC-SHA256 of the
 * session id under the server's admin token, so every api process sharing that token verifies it without storing it,
 * and it reveals nothing of the admin token. It authorizes only that session's hook and tool-call routes.
 */
export const issueSessionCredential = (secret: string, sessionId: string): string => `${SESSION_CREDENTIAL_PREFIX}${sessionId}.${mac(secret, sessionId)}`;

/** The session id a credential was issued for; `null` when it is not a session credential or its MAC is wrong. */
export const verifySessionCredential = (secret: string, credential: string): string | null => {
  if (!credential.startsWith(SESSION_CREDENTIAL_PREFIX)) return null;
  const dot = credential.lastIndexOf('.');
  const sessionId = credential.slice(SESSION_CREDENTIAL_PREFIX.length, dot);
  if (dot <= SESSION_CREDENTIAL_PREFIX.length || !sessionId) return null;
  const given = Buffer.from(credential.slice(dot + 1));
  const expected = Buffer.from(mac(secret, sessionId));
  return given.length === expected.length && timingSafeEqual(given, expected) ? sessionId : null;
};
