import {
  applyDecorators,
  createParamDecorator,
  ForbiddenException,
  Global,
  Injectable,
  Logger,
  Module,
  ServiceUnavailableException,
  SetMetadata,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE } from '@wa/service-kit';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { authSettingsFromEnv, type AuthEnvVars, type AuthSettings } from './auth-env';
import { hasAnyRole, type Principal, type Role } from './principal';
import { TokenRejected, TokenVerifier } from './token-verifier';

const ROLES_KEY = 'wa:auth:roles';

interface RequestWithPrincipal {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

interface ReplyLike {
  header(name: string, value: string): unknown;
}

/**
 * Checks the bearer token of an HTTP request and, when the handler or controller names roles,
 * that the principal holds one of them (`admin` holds them all). Errors leave as the platform's
 * `{ code, message }`: 401 with `WWW-Authenticate` (RFC 6750) for a missing or bad token, 403 for
 * a missing role, 503 when the issuer's keys cannot be fetched.
 *
 * Not installed globally on purpose: health, metrics and Kafka handlers are not for people.
 * Apply it with {@link Roles} or {@link Authenticated}.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('AuthGuard');

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http')
      throw new ForbiddenException({ code: 'forbidden', message: 'bearer tokens are checked on HTTP only' });
    const http = context.switchToHttp();
    const request = http.getRequest<RequestWithPrincipal>();
    const reply = http.getResponse<ReplyLike>();
    const challenge = (error?: string) => {
      reply.header('WWW-Authenticate', error ? `Bearer realm="wa-gov", error="${error}"` : 'Bearer realm="wa-gov"');
    };
    const header = request.headers.authorization;
    const value = Array.isArray(header) ? header[0] : header;
    if (!value) {
      challenge();
      throw new UnauthorizedException({ code: 'unauthorized', message: 'a bearer token is required (Authorization: Bearer <jwt>)' });
    }
    const match = /^Bearer\s+([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i.exec(value.trim());
    if (!match) {
      challenge('invalid_request');
      throw new UnauthorizedException({ code: 'unauthorized', message: 'the Authorization header must be "Bearer <jwt>"' });
    }
    let principal: Principal;
    try {
      principal = await this.verifier.verify(match[1]);
    } catch (error) {
      if (error instanceof TokenRejected) {
        challenge('invalid_token');
        throw new UnauthorizedException({ code: 'unauthorized', message: `invalid token: ${error.reason}` });
      }
      this.logger.error((error as Error).message);
      throw new ServiceUnavailableException({ code: 'auth_unavailable', message: 'tokens cannot be verified right now; try again' });
    }
    request.principal = principal;
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]) ?? [];
    if (!hasAnyRole(principal, required)) {
      throw new ForbiddenException({
        code: 'forbidden',
        message: `this action needs one of the roles ${required.join(', ')} (or admin)`,
        details: { required, held: principal.roles },
      });
    }
    return true;
  }
}

/**
 * Requires a valid bearer token, any role. Every route still names its roles with {@link Roles}
 * (the route audit test refuses a route with neither roles nor {@link Public}).
 */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AuthGuard),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'Missing, malformed, expired or wrongly signed bearer token' }),
  );
}

/** Requires a valid bearer token holding one of `roles` (admin always qualifies). */
export function Roles(...roles: Role[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    Authenticated(),
    ApiForbiddenResponse({ description: `Token lacks the role ${roles.join(' or ')} (or admin)` }),
  );
}

/**
 * A route that takes no bearer token, with the reason (probes, metrics scraped inside the
 * cluster, Meta's webhook handshake authenticated by its verify token).
 */
export function Public(reason: string): MethodDecorator & ClassDecorator {
  return SetMetadata(PUBLIC_ROUTE, reason);
}

/** How a route handler is protected, as its decorators declare it (for the route audit). */
export function routeAccess(controller: object, handler: object): { roles?: Role[]; public?: string } {
  const roles = (Reflect.getMetadata(ROLES_KEY, handler) ?? Reflect.getMetadata(ROLES_KEY, controller)) as Role[] | undefined;
  const reason = (Reflect.getMetadata(PUBLIC_ROUTE, handler) ?? Reflect.getMetadata(PUBLIC_ROUTE, controller)) as string | undefined;
  return { ...(roles?.length ? { roles } : {}), ...(reason ? { public: reason } : {}) };
}

/** The verified caller; scope every query by `principal.tenant`. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  // Only reachable when a handler uses @CurrentPrincipal without @Roles/@Authenticated: a bug.
  if (!principal) throw new Error('@CurrentPrincipal() needs @Roles(...) or @Authenticated() on the handler or controller');
  return principal;
});

/**
 * Provides the {@link TokenVerifier} and {@link AuthGuard} to the whole app. Import once:
 * `AuthModule.forRoot(env)` where env extends `withAuthEnv(BaseEnv)`.
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(env: AuthEnvVars | AuthSettings): DynamicModule {
    const settings = 'mode' in env ? env : authSettingsFromEnv(env);
    const verifier = new TokenVerifier(settings);
    return {
      module: AuthModule,
      providers: [{ provide: TokenVerifier, useValue: verifier }, AuthGuard],
      exports: [TokenVerifier, AuthGuard],
    };
  }
}
