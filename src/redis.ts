/**
 * `axios-oauth-bearer/redis`: a token store shared through Redis. A separate export path so that the main entry never
 * loads anything Redis-related; this one does not load ioredis either (the caller passes an ioredis client).
 * @packageDocumentation
 */
export { RedisTokenStore, redisTokenStoreDefaults } from './stores/redis.js';
export type { RedisStoreClient, RedisTokenStoreOptions } from './stores/redis.js';
export { storeKey, leaseKeyFor, failureKeyFor, DEFAULT_KEY_PREFIX } from './stores/key.js';
export type { KeyBinding, StoreKeyCredentials, StoreKeyFields } from './stores/key.js';
export type { EncryptionKey } from './stores/crypto.js';
export { TokenStoreError } from './stores/errors.js';
export type { TokenStoreFailure, TokenStoreOperation } from './stores/errors.js';
export { isLeasingStore } from './stores/types.js';
export type { LeaseRequest, LeasingTokenStore, MaybePromise, RenewalLease, StoreSnapshot, TokenStore } from './stores/types.js';
export type { SharedFailure } from './stores/shared-failure.js';
// What the declarations above name, so this entry's surface is complete on its own: ErrorCode (to compare an error's
// code), and types only for the rest (the base class itself comes from the main entry:
// `import { OAuthBearerError } from 'axios-oauth-bearer'`).
export { ErrorCode } from './errors.js';
export type { BasicCredentialForm, ErrorCodeValue, GrantKind, OAuthBearerError } from './errors.js';
export type { TokenSet } from './token-set.js';
