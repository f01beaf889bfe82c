package functionhost

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Authentication. The host's API (invoke and control plane) runs code,
// and any local user or process can reach a loopback port, so every
// request must be signed with AWS Signature Version 4 by the host's
// credentials (Options.AccessKeyID and SecretAccessKey, or a random pair
// made at New: Host.Credentials). The AWS SDKs and CLI sign every request
// anyway: point them at the host with its credentials.

// maxSignedBody bounds what is read to check a request's signature: the
// largest request the API takes (a zip upload, base64 in JSON).
const maxSignedBody = MaxCodeRequest

// maxClockSkew is how far a request's X-Amz-Date may be from the host's
// clock, as on AWS.
const maxClockSkew = 5 * time.Minute

type authenticator struct {
	creds  aws.Credentials
	signer *v4.Signer
}

func newAuthenticator(id, secret string) *authenticator {
	return &authenticator{creds: aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, signer: v4.NewSigner()}
}

// wrap serves next only for requests signed by the host's credentials; a
// request's body is read (bounded) to check its payload hash, and handed
// on in memory.
func (a *authenticator) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxSignedBody+1))
		if err != nil {
			awsError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading the request: "+err.Error())
			return
		}
		if len(body) > maxSignedBody {
			// Larger than any operation takes: the operation refuses it with
			// its own 413, which runs nothing.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			next.ServeHTTP(w, r)
			return
		}
		if se := a.verify(r, body); se != nil {
			awsError(w, se.status, se.code, se.message)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// verify checks r's Signature Version 4 Authorization header against the
// host's credentials. The errors are AWS's.
func (a *authenticator) verify(r *http.Request, body []byte) *serviceError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &serviceError{http.StatusForbidden, "MissingAuthenticationTokenException",
			"Missing Authentication Token (sign requests with the function host's credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as it printed them)"}
	}
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return &serviceError{http.StatusBadRequest, "IncompleteSignatureException", "Authorization header requires AWS4-HMAC-SHA256 signing"}
	}
	var credential, signedHeaders, signature string
	for _, part := range strings.Split(auth[len(algo):], ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	scope := strings.Split(credential, "/") // AKID/date/region/service/aws4_request
	if len(scope) != 5 || signedHeaders == "" || signature == "" || scope[4] != "aws4_request" {
		return &serviceError{http.StatusBadRequest, "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature"}
	}
	if !hmac.Equal([]byte(scope[0]), []byte(a.creds.AccessKeyID)) {
		return &serviceError{http.StatusForbidden, "UnrecognizedClientException",
			"The security token included in the request is invalid. (the local function host accepts only its own credentials, which it printed at start)"}
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return &serviceError{http.StatusBadRequest, "IncompleteSignatureException", "X-Amz-Date is missing or not in the form 20060102T150405Z"}
	}
	if d := time.Since(when); d > maxClockSkew || d < -maxClockSkew {
		return &serviceError{http.StatusForbidden, "InvalidSignatureException",
			fmt.Sprintf("Signature expired: %s is now earlier or later than %s by more than %v", when.Format("20060102T150405Z"), time.Now().UTC().Format("20060102T150405Z"), maxClockSkew)}
	}

	// Sign the request again, with only the headers it signed, and compare.
	clone, err := http.NewRequest(r.Method, r.URL.String(), nil)
	if err != nil {
		return &serviceError{http.StatusBadRequest, "IncompleteSignatureException", "the request URL: " + err.Error()}
	}
	clone.URL = r.URL
	clone.Host = r.Host
	for _, h := range strings.Split(signedHeaders, ";") {
		switch h {
		case "host":
		case "content-length":
			clone.ContentLength = r.ContentLength
		default:
			clone.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash != "UNSIGNED-PAYLOAD" { // else the signature covers a body hash: ours
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	if err := a.signer.SignHTTP(context.Background(), a.creds, clone, payloadHash, scope[3], scope[2], when); err != nil {
		return &serviceError{http.StatusBadRequest, "IncompleteSignatureException", err.Error()}
	}
	_, want, _ := strings.Cut(clone.Header.Get("Authorization"), "Signature=")
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return &serviceError{http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return nil
}

// Credentials returns the access key id and secret access key that
// requests to the host must be signed with.
func (h *Host) Credentials() (accessKeyID, secretAccessKey string) {
	return h.auth.creds.AccessKeyID, h.auth.creds.SecretAccessKey
}
