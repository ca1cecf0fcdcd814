/**
 * axios-oauth-bearer: OAuth 2.0 bearer tokens for axios. The public surface, named exports only.
 * @packageDocumentation
 */
// The per-request opt-out, typed on axios's own config. It lives in the entry file so that the published
// declarations keep it (a bundled .d.ts drops augmentations made in other modules).
declare module 'axios' {
  interface AxiosRequestConfig {
    /**
     * Send this request without a token and without 401 handling (axios-oauth-bearer).
     * @default false
     */
    skipAuth?: boolean;
    /**
     * The account this request acts for, on a client made with `auth.account` (axios-oauth-bearer): it is sent with
     * that account's token. Required there unless `auth.defaultAccount` is set; refused on a single-account client.
     * @default undefined
     */
    account?: string;
  }
}

export { createAuthClient, attachAuth } from './client.js';
export type {
  AttachAuthOptions,
  AuthClient,
  AuthClientConfig,
  AuthHandle,
  ClientCredentialsAttachOptions,
  ExtensionGrantAttachOptions,
  MultiAccountAttachOptions,
  OriginOptions,
  RefreshTokenAttachOptions,
  SingleAccountAttachOptions,
  SingleIdentityAttachOptions,
} from './client.js';
export type { TokenManager } from './token-manager.js';
export type { AccountTokenManagers } from './accounts.js';
export type { AccountCredentials, AccountProvider, Credential } from './credentials.js';
export { createTokenEndpoint } from './token-endpoint.js';
export type { TokenEndpoint, TokenEndpointOptions } from './token-endpoint.js';
export { defaults } from './options.js';
export type {
  AuthOptions,
  ClientAuthentication,
  ClientCredentialsAuthOptions,
  CommonAuthOptions,
  ErrorContext,
  ExtensionGrant,
  ExtensionGrantAuthOptions,
  GrantOption,
  MultiAccountAuthOptions,
  RefreshTokenAuthOptions,
  SingleAccountAuthOptions,
  SingleIdentityAuthOptions,
  TokenEvent,
  TokenSource,
} from './options.js';
export type { RetryOptions, RetryPolicy } from './retry.js';
export { MemoryTokenStore } from './stores/memory.js';
export { storeKey } from './stores/key.js';
export { parseTokenSet, serializeTokenSet } from './stores/serialize.js';
export type { StoredTokenSet } from './stores/serialize.js';
export type { KeyBinding, StoreKeyCredentials, StoreKeyFields } from './stores/key.js';
export type { LeaseRequest, LeasingTokenStore, MaybePromise, RenewalLease, StoreSnapshot, TokenStore } from './stores/types.js';
export type { SharedFailure } from './stores/shared-failure.js';
export { TokenStoreError } from './stores/errors.js';
export type { TokenStoreFailure, TokenStoreOperation } from './stores/errors.js';
export type { TokenSet } from './token-set.js';
export { channels } from './diagnostics.js';
export type {
  CooldownEvent,
  ErrorEvent,
  ErrorSummary,
  LeaseTakeoverEvent,
  RenewalEvent,
  ReplayEvent,
  StoreOperationEvent,
  TokenRequestEvent,
  TokenWaitEvent,
} from './diagnostics.js';
export { MAX_TOKEN_LENGTH, MAX_ENDPOINT_TEXT_LENGTH, MAX_RESPONSE_BYTES } from './limits.js';
export {
  ErrorCode,
  OAuthBearerError,
  ConfigurationError,
  CredentialError,
  TokenRequestError,
  TokenEndpointError,
  InvalidRequestError,
  InvalidClientError,
  UserAuthenticationError,
  GrantRejectedError,
  RefreshTokenRejectedError,
  InvalidTokenResponseError,
  TokenNetworkError,
  ReplayNotPossibleError,
  OriginNotAllowedError,
} from './errors.js';
export type { BasicCredentialForm, CredentialFailure, CredentialName, ErrorCodeValue, GrantKind, InvalidClientFields, OAuthErrorFields, RedactedResponse } from './errors.js';
