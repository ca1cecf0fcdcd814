/**
 * `axios-oauth-bearer/file`: a token store in files, shared by the processes of one machine. A separate export path so
 * that the main entry never loads anything file-store related; this one loads `proper-lockfile` (an optional peer
 * dependency: `npm install proper-lockfile`), which users who never import it need not install.
 * @packageDocumentation
 */
export { FileTokenStore, fileTokenStoreDefaults } from './stores/file.js';
export type { FileTokenStoreOptions } from './stores/file.js';
export { defaultFileStoreDirectory } from './stores/file-io.js';
export { storeKey, leaseKeyFor, failureKeyFor, DEFAULT_KEY_PREFIX } from './stores/key.js';
export type { KeyBinding, StoreKeyCredentials, StoreKeyFields } from './stores/key.js';
export type { EncryptionKey } from './stores/crypto.js';
export { TokenStoreError } from './stores/errors.js';
export type { TokenStoreFailure, TokenStoreOperation } from './stores/errors.js';
export { isLeasingStore } from './stores/types.js';
export type { LeaseRequest, LeasingTokenStore, MaybePromise, RenewalLease, StoreSnapshot, TokenStore } from './stores/types.js';
export type { SharedFailure } from './stores/shared-failure.js';
// What the declarations above name, so this entry's surface is complete on its own (as in `axios-oauth-bearer/redis`).
export { ErrorCode } from './errors.js';
export type { BasicCredentialForm, ErrorCodeValue, GrantKind, OAuthBearerError } from './errors.js';
export type { TokenSet } from './token-set.js';
