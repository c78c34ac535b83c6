package fakeprovider

import "crypto/rand"

// Alphabets of the ids and secrets the fakes hand out.
const (
	// Alnum is the ASCII letters and digits.
	Alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	// URLSafe is Alnum with '-' and '_': the URL-safe base64 alphabet.
	URLSafe = Alnum + "-_"
	// UpperDigits is the upper-case letters and digits.
	UpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	// Hex is the lower-case hexadecimal digits.
	Hex = "0123456789abcdef"
)

// Random returns n characters drawn from alphabet (at most 256 characters) with
// crypto/rand, for ids and secrets no two tests share.
func Random(alphabet string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
