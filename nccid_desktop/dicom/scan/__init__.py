"""Finding DICOM files in what PACS staff drop and reading their headers into patients, studies, series."""
