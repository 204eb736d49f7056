#!/usr/bin/python3
"""gen_request.py - realistic myositis-order-sign requests of any record size, for the benchmark.

A woman of 57 with polymyositis; the clinician signs prednisone 60 mg/day (open-ended),
methotrexate 15 mg weekly and a first IVIG course. The record holds --history resources
(conditions, past and active medications, labs, allergies, procedures, service requests),
none of which answers the orders, so five cards fire whatever the size: pjp-prophylaxis,
iga-before-ivig (no IgA on record), mtx-folic-acid, mtx-baseline (no hepatitis B/C
screening) and bone-protection. With --history 100 the body is about 60 KB.

Deterministic (fixed seed): the same size always gives the same bytes. Standard library only.
Usage: gen_request.py --history N [--out FILE]   (stdout without --out)
"""
import argparse
import json
import random
import sys

PATIENT = "pat-bench-001"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
EHR = "https://ehr.example.org/fhir/r4"

# Background conditions (none a myositis, none an IgA deficiency or osteoporosis).
CONDITIONS = [
    ("38341003", "I10", "Hypertensive disorder"),
    ("44054006", "E11.9", "Type 2 diabetes mellitus"),
    ("55822004", "E78.5", "Hyperlipidemia"),
    ("235595009", "K21.9", "Gastroesophageal reflux disease"),
    ("40930008", "E03.9", "Hypothyroidism"),
    ("35489007", "F32.9", "Depressive disorder"),
    ("267036007", "R06.00", "Dyspnea"),
    ("68566005", "N39.0", "Urinary tract infection"),
]
# Record medications that answer none of the orders (no steroid-sparing agent active, no
# PJP prophylaxis, no folic acid, no calcium/vitamin D, no IVIG ever).
MEDS = [
    ("29046", "lisinopril 10 MG Oral Tablet", 10, "d"),
    ("6809", "metformin 500 MG Oral Tablet", 500, "d"),
    ("17767", "amlodipine 5 MG Oral Tablet", 5, "d"),
    ("7646", "omeprazole 20 MG Delayed Release Oral Capsule", 20, "d"),
    ("10582", "levothyroxine 0.1 MG Oral Tablet", 0.1, "d"),
    ("36437", "sertraline 50 MG Oral Tablet", 50, "d"),
    ("5640", "ibuprofen 400 MG Oral Tablet", 400, "d"),
    ("161", "acetaminophen 500 MG Oral Tablet", 500, "d"),
    ("4603", "furosemide 20 MG Oral Tablet", 20, "d"),
    ("8640", "prednisone 10 MG Oral Tablet", 10, "d"),  # past courses only (completed)
]
LABS = [
    ("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 800),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.9),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.5),
    ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 7.2),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 250),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 105),
    ("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 8),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 4.1),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 60),
    ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 75),
    ("29463-7", "Body weight", "kg", 74),
]
PROCEDURES = [
    ("241615005", "Magnetic resonance imaging of thigh"),
    ("37882002", "Electromyography"),
    ("74101002", "Muscle biopsy"),
    ("71651007", "Mammography"),
    ("73761001", "Colonoscopy"),
]
ALLERGIES = [("764146007", "Penicillin"), ("227493005", "Cashew nuts"), ("111088007", "Latex")]


def ref(kind, rid):
    return {"reference": f"{kind}/{rid}"}


def day(rng, start_year=2015):
    return f"{rng.randint(start_year, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def coding(system, code, display):
    return {"system": system, "code": code, "display": display}


def condition(rng, i):
    sn, icd, name = CONDITIONS[i % len(CONDITIONS)]
    status = "active" if i % 3 else "resolved"
    return {
        "resourceType": "Condition", "id": f"cond-{i}",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": status}]},
        "code": {"coding": [coding(SNOMED, sn, name + " (disorder)"), coding(ICD10, icd, name)],
                 "text": name},
        "subject": ref("Patient", PATIENT), "onsetDateTime": day(rng),
    }


def myositis():
    c = condition(random.Random(0), 0)
    c.update({"id": "cond-pm", "clinicalStatus": {"coding": [coding(
        "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")]},
        "code": {"coding": [coding(SNOMED, "31384009", "Polymyositis (disorder)"),
                            coding(ICD10, "M33.20", "Polymyositis, organ involvement unspecified")],
                 "text": "Polymyositis"}, "onsetDateTime": "2025-11-03"})
    return c


def dosage(text, value, unit, per, route="oral", bound_days=None):
    rep = {"frequency": 1, "period": 1, "periodUnit": per}
    if bound_days is not None:
        rep["boundsDuration"] = {"value": bound_days, "unit": "days", "system": UCUM, "code": "d"}
    return {"text": text, "timing": {"repeat": rep}, "route": {"text": route},
            "doseAndRate": [{"doseQuantity": {"value": value, "unit": unit, "system": UCUM,
                                              "code": unit}}]}


def med_request(rid, status, code, display, dose, authored, per="d", bound_days=None,
                draft=False):
    mr = {
        "resourceType": "MedicationRequest", "id": rid, "status": status, "intent": "order",
        "medicationCodeableConcept": {"coding": [coding(RXNORM, code, display)] if code else [],
                                      "text": display},
        "subject": ref("Patient", PATIENT), "authoredOn": authored,
        "requester": ref("Practitioner", "prac-rheum-1") if draft else None,
        "dosageInstruction": [dosage(f"{dose} mg by mouth", dose, "mg", per,
                                     bound_days=bound_days)],
        "dispenseRequest": {"numberOfRepeatsAllowed": 3,
                            "expectedSupplyDuration": {"value": 30, "unit": "days",
                                                       "system": UCUM, "code": "d"}},
    }
    if not draft:
        del mr["requester"]
    if not code:
        del mr["medicationCodeableConcept"]["coding"]
    if draft or bound_days is not None:
        del mr["dispenseRequest"]  # drafts are open-ended; past courses have timing bounds
    return mr


def history_med(rng, i):
    code, display, dose, per = MEDS[i % len(MEDS)]
    status = "active" if (i % 5 == 0 and code != "8640") else rng.choice(["completed", "stopped"])
    return med_request(f"mr-h{i}", status, code, display, dose, f"{day(rng)}T09:00:00Z", per,
                       bound_days=None if status == "active" else 30)


def observation(rng, i):
    code, display, unit, base = LABS[i % len(LABS)]
    return {
        "resourceType": "Observation", "id": f"obs-{i}", "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs" if code == "29463-7" else "laboratory"}]}],
        "code": {"coding": [coding(LOINC, code, display)]},
        "subject": ref("Patient", PATIENT), "effectiveDateTime": f"{day(rng, 2024)}T08:30:00Z",
        "valueQuantity": {"value": round(base * rng.uniform(0.8, 1.2), 1), "unit": unit,
                          "system": UCUM, "code": unit},
    }


def allergy(rng, i):
    code, name = ALLERGIES[i % len(ALLERGIES)]
    return {
        "resourceType": "AllergyIntolerance", "id": f"alg-{i}",
        "clinicalStatus": {"coding": [coding(
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active",
            "Active")]},
        "verificationStatus": {"coding": [coding(
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
            "confirmed", "Confirmed")]},
        "type": "allergy", "category": ["medication" if i % 3 == 0 else "environment"],
        "code": {"coding": [coding(SNOMED, code, name)], "text": name},
        "patient": ref("Patient", PATIENT), "recordedDate": day(rng),
        "reaction": [{"manifestation": [{"text": "Rash"}], "severity": "mild"}],
    }


def procedure(rng, i, request):
    code, name = PROCEDURES[i % len(PROCEDURES)]
    res = {
        "resourceType": "ServiceRequest" if request else "Procedure",
        "id": f"{'sr' if request else 'proc'}-{i}", "status": "completed",
        "code": {"coding": [coding(SNOMED, code, name)], "text": name},
        "subject": ref("Patient", PATIENT),
    }
    if request:
        res.update({"intent": "order", "authoredOn": f"{day(rng)}T11:00:00Z",
                    "requester": ref("Practitioner", "prac-rheum-1")})
    else:
        res.update({"performedDateTime": f"{day(rng)}T11:00:00Z",
                    "performer": [{"actor": ref("Practitioner", f"prac-{i % 5}")}]})
    return res


def bundle(resources):
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "link": [{"relation": "self", "url": f"{EHR}/search"}],
            "entry": [{"fullUrl": f"{EHR}/{r['resourceType']}/{r['id']}", "resource": r}
                      for r in resources]}


def split(n):
    """How n history resources divide between the kinds (the myositis condition and the
    weight are always there and count in n)."""
    shares = [("conditions", 0.10), ("medications", 0.35), ("allergies", 0.03),
              ("procedures", 0.06), ("serviceRequests", 0.06)]
    out = {k: int(n * s) for k, s in shares}
    out["observations"] = n - sum(out.values())
    return out


def drafts():
    pred = med_request("mr-pred-60", "draft", "8640", "prednisone", 60,
                       "2026-03-16T10:20:00Z", draft=True)
    mtx = med_request("mr-mtx-15", "draft", "105585", "methotrexate 2.5 MG Oral Tablet", 15,
                      "2026-03-16T10:21:00Z", per="wk", draft=True)
    ivig = med_request("mr-ivig", "draft", None,
                       "immune globulin (human) 10% intravenous solution", 35000,
                       "2026-03-16T10:22:00Z", bound_days=2, draft=True)
    ivig["dosageInstruction"][0]["route"] = {"text": "intravenous"}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in (pred, mtx, ivig)]}


def build(n):
    rng = random.Random(n)
    parts = split(n)
    conds = [myositis()] + [condition(rng, i) for i in range(1, parts["conditions"])]
    meds = [history_med(rng, i) for i in range(parts["medications"])]
    obs = [observation(rng, i) for i in range(max(parts["observations"], 1))]
    obs[0] = observation(rng, LABS.index(LABS[-1]))  # a body weight
    return {
        "hookInstance": "0d3c4a58-9f27-4a4e-bf0c-6c2b3f2f9a10",
        "hook": "order-sign",
        "fhirServer": EHR,
        "context": {"userId": "Practitioner/prac-rheum-1", "patientId": PATIENT,
                    "encounterId": "enc-bench-001", "draftOrders": drafts()},
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": PATIENT,
                        "identifier": [{"system": "https://ehr.example.org/mrn",
                                        "value": "MRN-BENCH-001"}],
                        "active": True,
                        "name": [{"use": "official", "family": "Lindqvist", "given": ["Maria"]}],
                        "gender": "female", "birthDate": "1968-04-17"},
            "conditions": bundle(conds),
            "medications": bundle(meds),
            "observations": bundle(obs),
            "allergies": bundle([allergy(rng, i) for i in range(parts["allergies"])]),
            "procedures": bundle([procedure(rng, i, False) for i in range(parts["procedures"])]),
            "serviceRequests": bundle([procedure(rng, i, True)
                                       for i in range(parts["serviceRequests"])]),
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--history", type=int, default=100, help="history resources (>= 2)")
    ap.add_argument("--out", help="output file (default stdout)")
    a = ap.parse_args()
    data = json.dumps(build(max(a.history, 2)), separators=(",", ":")).encode()
    if a.out:
        with open(a.out, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
