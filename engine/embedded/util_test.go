package embedded_test

import "bytes"

type bytesBuffer = bytes.Buffer
