"""Reading and writing DICOM Part 10 bytes: the element walk, the header parser, the encoder."""
