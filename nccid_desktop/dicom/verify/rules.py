"""What the verifier treats as identifying, as data (see :mod:`.verifier`).

Why separate: these lists are policy, reviewed by information governance; the verifier is the
code that interprets them. Every person name (VR PN) at any depth is identifying whatever its
keyword, so names need no list; the keywords below add the non-name values that identify a
patient or the place they were seen.
"""

from __future__ import annotations

from functools import cache

from pydicom.datadict import tag_for_keyword

from nccid_desktop.dicom.deid import profile

#: Non-name attributes whose source values must not appear anywhere in an output.
IDENTIFYING_KEYWORDS = (
    "PatientID", "OtherPatientIDs", "IssuerOfPatientID", "AccessionNumber", "StudyID",
    "AdmissionID", "MedicalRecordLocator", "PatientBirthDate", "PatientAddress",
    "PatientTelephoneNumbers", "PatientTelecomInformation", "CountryOfResidence",
    "RegionOfResidence", "MilitaryRank", "BranchOfService", "ResponsibleOrganization",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "RequestingService", "FillerOrderNumberImagingServiceRequest",
    "PlacerOrderNumberImagingServiceRequest", "RequestedProcedureID",
    "PerformedProcedureStepID", "ScheduledProcedureStepID",
)

#: UIDs of classes, syntaxes and software, not of this patient's objects: kept as they are.
CLASS_UID_KEYWORDS = (
    "SOPClassUID", "MediaStorageSOPClassUID", "ReferencedSOPClassUID", "AffectedSOPClassUID",
    "RequestedSOPClassUID", "ReferencedSOPClassUIDInFile", "TransferSyntaxUID",
    "ReferencedTransferSyntaxUIDInFile", "ImplementationClassUID", "CodingSchemeUID",
    "RelatedGeneralSOPClassUID", "OriginalSpecializedSOPClassUID",
)

#: Attributes the de-identifier writes from its own constants (never copied from the source);
#: their text ("Retain Patient Characteristics Option" ...) may share a word with a name.
MARKER_KEYWORDS = (
    "DeidentificationMethod", "PatientIdentityRemoved", "LongitudinalTemporalInformationModified",
)
#: Sequences the de-identifier writes whole from its constants (CID 7050 codes).
MARKER_SEQUENCES = ("DeidentificationMethodCodeSequence",)

#: Free-text value representations, where a numbers-only identifier is also searched.
TEXT_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT", "UR", "UN"})

STANDARD_UID_ROOT = "1.2.840.10008."
#: Values the de-identifier wrote itself are ignored in the raw bytes from this length.
MIN_OWN_VALUE_LENGTH = 8
#: Shorter strings match by chance and are not searched (IDs of one or two characters).
MIN_NEEDLE_LENGTH = 3
#: Numbers-only identifiers shorter than this are not searched in raw bytes (chance matches).
MIN_RAW_DIGITS = 8

#: Removed by the Basic Profile and kept by none of the NCCID options: checked even if the
#: compiled profile (which also lists them) were ever changed to keep one by mistake.
_ALWAYS_REMOVED_KEYWORDS = (
    "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames", "PatientAddress",
    "PatientTelephoneNumbers", "PatientMotherBirthName", "PatientBirthName",
    "MedicalRecordLocator", "IssuerOfPatientID", "AdmissionID", "MilitaryRank",
    "BranchOfService", "CountryOfResidence", "RegionOfResidence", "PatientTelecomInformation",
    "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers", "PerformingPhysicianName",
    "RequestingPhysician", "NameOfPhysiciansReadingStudy", "PhysiciansOfRecord",
    "ResponsiblePerson", "ResponsibleOrganization", "PatientInsurancePlanCodeSequence",
    "InstitutionAddress", "InstitutionalDepartmentName",
)


@cache
def removed_tags() -> frozenset[int]:
    """Tags that must not be present in an output, at any depth: the profile's removals."""
    always = frozenset(t for k in _ALWAYS_REMOVED_KEYWORDS if (t := tag_for_keyword(k)))
    return always | profile.removed_tags()
