/*
 * Template definitions in the exact shape of Meta's management API (`POST /{waba-id}/message_templates`):
 * what the registry stores is what it submits, so nothing is lost or re-shaped between the two.
 */

export const TEMPLATE_CATEGORIES = ['UTILITY', 'MARKETING', 'AUTHENTICATION'] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

export type ParameterFormat = 'named' | 'positional';

export const HEADER_FORMATS = ['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT', 'LOCATION'] as const;
export type HeaderFormat = (typeof HEADER_FORMATS)[number];

export interface NamedParamExample {
  param_name: string;
  example: string;
}

export interface HeaderComponent {
  type: 'HEADER';
  format: HeaderFormat;
  /** TEXT headers only: at most 60 characters and one variable. */
  text?: string;
  example?: {
    /** Positional text header: the one example value. */
    header_text?: string[];
    /** Named text header. */
    header_text_named_params?: NamedParamExample[];
    /** Media headers: a sample uploaded through Meta's Resumable Upload API. */
    header_handle?: string[];
  };
}

export interface BodyComponent {
  type: 'BODY';
  text: string;
  example?: {
    /** Positional: one row with one value per variable, in number order. */
    body_text?: string[][];
    body_text_named_params?: NamedParamExample[];
  };
}

export interface FooterComponent {
  type: 'FOOTER';
  text: string;
}

export interface QuickReplyButton {
  type: 'QUICK_REPLY';
  text: string;
}

export interface UrlButton {
  type: 'URL';
  text: string;
  /** At most one variable, `{{1}}`, at the very end (the suffix sent with each message). */
  url: string;
  /** Required when the URL has a variable: one example (suffix or full URL). */
  example?: string[];
}

export interface PhoneNumberButton {
  type: 'PHONE_NUMBER';
  text: string;
  phone_number: string;
}

export interface CopyCodeButton {
  type: 'COPY_CODE';
  /** The example code (at most 15 characters). */
  example: string;
  text?: string;
}

export type TemplateButton = QuickReplyButton | UrlButton | PhoneNumberButton | CopyCodeButton;

export interface ButtonsComponent {
  type: 'BUTTONS';
  buttons: TemplateButton[];
}

export type TemplateComponent = HeaderComponent | BodyComponent | FooterComponent | ButtonsComponent;

/** One translation of a template: Meta's create payload. */
export interface TemplateDefinition {
  name: string;
  language: string;
  category: TemplateCategory | string;
  /** Defaults to `positional`, as at Meta. */
  parameterFormat?: ParameterFormat;
  components: TemplateComponent[];
}

/** What a template needs at send time; the catalog publishes this list so consumers need not parse. */
export interface TemplateParameter {
  component: 'header' | 'body' | 'button';
  /** Named parameter (`first_name`), position (`1`), or for media/location headers the format (`image`). */
  name: string;
  /** text for text variables; image/video/document/location for headers; payload for quick replies. */
  type: 'text' | 'image' | 'video' | 'document' | 'location' | 'payload' | 'coupon_code';
  /** Buttons only: the button's 0-based position. */
  buttonIndex?: number;
  /** False for quick-reply payloads (Meta falls back to the button label). */
  required: boolean;
  example?: string;
}

/** One problem, precise enough to point an editor at the field. */
export interface TemplateIssue {
  /** JSON-ish path into the definition, e.g. `components[0].text`. */
  path: string;
  /** Stable machine code, e.g. `body.trailing_variable`. */
  code: string;
  message: string;
}

export type ValidationResult = { ok: true; parameters: TemplateParameter[] } | { ok: false; errors: string[]; issues: TemplateIssue[] };

/* ---------- rendering (send time) ---------- */

export interface HeaderMediaValue {
  type: 'image' | 'video' | 'document';
  /** Uploaded media id, or a public https link (one of the two). */
  id?: string;
  link?: string;
  /** Documents: the file name the citizen sees. */
  filename?: string;
}

export interface HeaderLocationValue {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

/**
 * Values for one send; the same shape as `TemplateRef` in the outbound request contract.
 * - `parameters`: body variables by name (`first_name`) or position (`'1'`). Header text variables
 *   use `header.<name>` (`header.1` for positional); for named templates a plain `<name>` also
 *   fills the header when `header.<name>` is absent.
 * - `buttonParameters`: by button index (`'1'`): the URL suffix, the quick-reply payload or the
 *   copy-code value.
 */
export interface RenderInput {
  parameters?: Record<string, string>;
  headerMedia?: HeaderMediaValue;
  headerLocation?: HeaderLocationValue;
  buttonParameters?: Record<string, string>;
}

export interface RenderOptions {
  /** Preview and tests render drafts; sends must not (default: only APPROVED renders). */
  allowUnapproved?: boolean;
  /** Ignore values no variable asks for (default: they are an error, usually a wrong template). */
  ignoreUnknownParameters?: boolean;
}

/** A parameter inside a Cloud API `/messages` template component. */
export type CloudApiParameter =
  | { type: 'text'; text: string; parameter_name?: string }
  | { type: 'image'; image: { id?: string; link?: string } }
  | { type: 'video'; video: { id?: string; link?: string } }
  | { type: 'document'; document: { id?: string; link?: string; filename?: string } }
  | { type: 'location'; location: HeaderLocationValue }
  | { type: 'payload'; payload: string }
  | { type: 'coupon_code'; coupon_code: string };

/** A component of the `/messages` template object (lowercase, as the send API wants it). */
export type CloudApiComponent =
  | { type: 'header'; parameters: CloudApiParameter[] }
  | { type: 'body'; parameters: CloudApiParameter[] }
  | { type: 'button'; sub_type: 'url' | 'quick_reply' | 'copy_code'; index: string; parameters: CloudApiParameter[] };

/** The `template` object of a `/messages` request. */
export interface CloudApiTemplateMessage {
  name: string;
  language: { code: string };
  components?: CloudApiComponent[];
}

export type RenderResult =
  | { ok: true; components: CloudApiComponent[]; template: CloudApiTemplateMessage }
  | { ok: false; errors: string[]; issues: TemplateIssue[] };

/** What render needs from a catalog entry (`TemplateCatalogEntryV1` satisfies it). */
export interface RenderableTemplate {
  name: string;
  language: string;
  status: string;
  parameterFormat: ParameterFormat | string;
  components: readonly unknown[];
}

/** Human-readable preview: the text a citizen would see. */
export interface TemplatePreview {
  header?: { format: HeaderFormat; text?: string };
  body: string;
  footer?: string;
  buttons: { type: TemplateButton['type']; text: string; url?: string; phoneNumber?: string }[];
}
