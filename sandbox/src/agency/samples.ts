import type { PdfPage } from './pdf';

/*
 * What the sample agencies' own systems would hold: the immigration department's visa renewal
 * checklist (one PDF per language the standard PDF fonts can print) and a few applications whose
 * status the chatbot looks up. Sample data, written for the sandbox.
 */

export const CHECKLISTS: Record<string, PdfPage> = {
  en: {
    title: 'Residence visa renewal – document checklist',
    subtitle: 'Department of Immigration and Residency',
    lines: [
      '1. Renewal application form, completed and signed.',
      '2. Passport valid for at least six more months, and a copy of its photo page.',
      '3. Current residence visa, and a copy of it.',
      '4. Two recent colour photographs on a white background.',
      '5. Health insurance valid for the whole stay.',
      "6. Proof of the reason for your stay: employment contract, enrolment certificate or sponsor's letter.",
      '7. Medical fitness certificate, if your visa category requires one.',
      '8. Receipt of the renewal fee.',
      'Apply at least 30 days before your visa expires. Bring the originals and one copy of each document. An application with a missing document is put on hold until the document arrives.',
    ],
    footer: 'Sample document of the Cloud API sandbox: not an official checklist.',
  },
  es: {
    title: 'Renovación de la visa de residencia – lista de documentos',
    subtitle: 'Departamento de Inmigración y Residencia',
    lines: [
      '1. Formulario de solicitud de renovación, completo y firmado.',
      '2. Pasaporte con al menos seis meses de vigencia y copia de la página de datos.',
      '3. Visa de residencia vigente y una copia.',
      '4. Dos fotografías a color recientes, con fondo blanco.',
      '5. Seguro médico válido durante toda la estadía.',
      '6. Prueba del motivo de la estadía: contrato de trabajo, certificado de matrícula o carta del patrocinador.',
      '7. Certificado de aptitud médica, si su categoría de visa lo exige.',
      '8. Recibo de pago de la tarifa de renovación.',
      'Presente la solicitud al menos 30 días antes de que venza su visa. Lleve los originales y una copia de cada documento. Una solicitud a la que le falte un documento queda en espera hasta recibirlo.',
    ],
    footer: 'Documento de ejemplo del sandbox de la Cloud API: no es una lista oficial.',
  },
  fr: {
    title: 'Renouvellement du visa de résidence – pièces à fournir',
    subtitle: "Département de l'immigration et de la résidence",
    lines: [
      '1. Formulaire de demande de renouvellement, rempli et signé.',
      "2. Passeport valable encore au moins six mois, et copie de la page d'identité.",
      '3. Visa de résidence en cours de validité, et sa copie.',
      '4. Deux photos d’identité couleur récentes, sur fond blanc.',
      '5. Assurance maladie valable pour toute la durée du séjour.',
      '6. Justificatif du motif du séjour : contrat de travail, certificat de scolarité ou lettre du garant.',
      "7. Certificat d'aptitude médicale, si votre catégorie de visa l'exige.",
      '8. Reçu du paiement des frais de renouvellement.',
      "Déposez la demande au moins 30 jours avant l'expiration de votre visa. Apportez les originaux et une copie de chaque document. Une demande incomplète est mise en attente jusqu'à réception du document manquant.",
    ],
    footer: "Document d'exemple du bac à sable de la Cloud API : ce n'est pas une liste officielle.",
  },
  pt_BR: {
    title: 'Renovação do visto de residência – lista de documentos',
    subtitle: 'Departamento de Imigração e Residência',
    lines: [
      '1. Formulário de pedido de renovação, preenchido e assinado.',
      '2. Passaporte válido por pelo menos mais seis meses e cópia da página de identificação.',
      '3. Visto de residência atual e uma cópia.',
      '4. Duas fotos coloridas recentes, com fundo branco.',
      '5. Seguro-saúde válido durante toda a estadia.',
      '6. Comprovante do motivo da estadia: contrato de trabalho, declaração de matrícula ou carta do patrocinador.',
      '7. Atestado de aptidão médica, se a sua categoria de visto exigir.',
      '8. Comprovante de pagamento da taxa de renovação.',
      'Faça o pedido pelo menos 30 dias antes do vencimento do visto. Leve os originais e uma cópia de cada documento. Um pedido com documento faltando fica suspenso até o documento chegar.',
    ],
    footer: 'Documento de exemplo do sandbox da Cloud API: não é uma lista oficial.',
  },
};

export interface SampleApplication {
  reference: string;
  kind: string;
  state: 'approved' | 'in_review' | 'needs_documents';
  updated_on: string;
}

export const APPLICATIONS: SampleApplication[] = [
  { reference: 'IMM-2026-000001', kind: 'residence_visa_renewal', state: 'approved', updated_on: '2026-11-28' },
  { reference: 'IMM-2026-000002', kind: 'residence_visa_renewal', state: 'in_review', updated_on: '2026-12-01' },
  { reference: 'IMM-2026-000003', kind: 'residence_visa_renewal', state: 'needs_documents', updated_on: '2026-11-30' },
];

/** Answers after the caller's timeout (the chatbot's `on_error` path). */
export const SLOW_REFERENCE = 'IMM-2026-000004';
/** Answers 200 with a broken JSON body. */
export const GARBAGE_REFERENCE = 'IMM-2026-000005';
/** Answers 503, as a system down for maintenance. */
export const UNAVAILABLE_REFERENCE = 'IMM-2026-000006';
