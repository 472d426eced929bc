/**
 * Department SLAs: a conversation unassigned for longer than the department's limit alerts the
 * tenant's supervisors once and, when the department says so, widens who may take it.
 */
export interface DepartmentSla {
  slaSeconds: number;
  widenLanguages: boolean;
  widenDepartments: readonly string[];
}

export interface SlaDecision {
  alert: boolean;
  widenLanguages: boolean;
  widenDepartments: string[];
}

export function slaDecision(
  conversation: { queuedAt: Date; slaAlertedAt: Date | null },
  sla: DepartmentSla,
  now: Date,
): SlaDecision | null {
  if (conversation.slaAlertedAt) return null;
  if (now.getTime() - conversation.queuedAt.getTime() < sla.slaSeconds * 1000) return null;
  return { alert: true, widenLanguages: sla.widenLanguages, widenDepartments: [...sla.widenDepartments] };
}
