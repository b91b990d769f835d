package eval

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // register decoders for DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"strings"
)

func addImage(m map[string]Func) {
	m["image_count"] = imageCount
	m["pixel_coverage"] = pixelCoverage
	m["image_to_text_ratio"] = imageToTextRatio
	m["image_size_exact"] = imageSizeExact
	m["image_size_range"] = imageSizeRange
	m["image_named"] = imageNamed
}

// images are the ImageInfo facts: per type ("gif", "png", "jpeg", "all")
// the count of base64 image parts, their total pixel area, their
// "HxW" dimensions and file names.
type images struct {
	count, pixels map[string]int
	dims          map[string]map[string]bool
	names         map[string]bool
}

var imageType = lazyRegexp(`^image/(gif|png|jpe?g)$`)

func (c *Context) images() *images {
	return cached(c, "images", func() *images {
		im := &images{count: map[string]int{}, pixels: map[string]int{}, dims: map[string]map[string]bool{}, names: map[string]bool{}}
		for _, p := range c.Msg.Parts {
			m := imageType().FindStringSubmatch(p.ContentType)
			if !p.Leaf || m == nil || p.TransferEncoding != "base64" {
				continue
			}
			typ := m[1]
			if typ == "jpg" {
				typ = "jpeg"
			}
			im.count[typ]++
			im.count["all"]++
			if p.Filename != "" {
				im.names[p.Filename] = true
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Decoded))
			if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
				continue
			}
			area := cfg.Width * cfg.Height
			im.pixels[typ] += area
			im.pixels["all"] += area
			d := fmt.Sprintf("%dx%d", cfg.Height, cfg.Width)
			for _, t := range []string{typ, "all"} {
				if im.dims[t] == nil {
					im.dims[t] = map[string]bool{}
				}
				im.dims[t][d] = true
			}
		}
		return im
	})
}

// resultCheck is ImageInfo's result_check: MIN <= v <= MAX (MAX optional;
// with noMaxEqual, v == MAX misses).
func resultCheck(args []string, i int, v float64, noMaxEqual bool) bool {
	if v < perlNum(args[i]) {
		return false
	}
	if i+1 < len(args) {
		mx := perlNum(args[i+1])
		if v > mx || noMaxEqual && v == mx {
			return false
		}
	}
	return true
}

// imageCount (image_count(TYPE, MIN[, MAX])): the number of base64 images
// of TYPE (gif, png, jpeg, all) is in [MIN, MAX].
func imageCount(c *Context, args []string) (bool, error) {
	if err := needArgs("image_count", args, 2); err != nil {
		return false, err
	}
	return resultCheck(args, 1, float64(c.images().count[args[0]]), false), nil
}

// pixelCoverage (pixel_coverage(TYPE, MIN[, MAX])): the total pixel area
// of images of TYPE is in [MIN, MAX].
func pixelCoverage(c *Context, args []string) (bool, error) {
	if err := needArgs("pixel_coverage", args, 2); err != nil {
		return false, err
	}
	return resultCheck(args, 1, float64(c.images().pixels[args[0]]), false), nil
}

// imageToTextRatio (image_to_text_ratio(TYPE, MIN, MAX)): body text bytes
// per image pixel is in [MIN, MAX).
func imageToTextRatio(c *Context, args []string) (bool, error) {
	if err := needArgs("image_to_text_ratio", args, 3); err != nil {
		return false, err
	}
	text := 0
	for _, l := range c.Msg.Rendered {
		text += len(l)
	}
	px := c.images().pixels[args[0]]
	if text == 0 || px == 0 {
		return false, nil
	}
	return resultCheck(args, 1, float64(text)/float64(px), true), nil
}

// imageSizeExact (image_size_exact(TYPE, HEIGHT, WIDTH)): an image of TYPE
// has exactly these dimensions.
func imageSizeExact(c *Context, args []string) (bool, error) {
	if err := needArgs("image_size_exact", args, 3); err != nil {
		return false, err
	}
	return c.images().dims[args[0]][args[1]+"x"+args[2]], nil
}

// imageSizeRange (image_size_range(TYPE, MINH, MINW[, MAXH, MAXW])): an
// image of TYPE is within these dimensions.
func imageSizeRange(c *Context, args []string) (bool, error) {
	if err := needArgs("image_size_range", args, 3); err != nil {
		return false, err
	}
	for d := range c.images().dims[args[0]] {
		hs, ws, _ := strings.Cut(d, "x")
		h, w := perlNum(hs), perlNum(ws)
		if h < perlNum(args[1]) || w < perlNum(args[2]) {
			continue
		}
		if len(args) > 3 && h > perlNum(args[3]) || len(args) > 4 && w > perlNum(args[4]) {
			continue
		}
		return true, nil
	}
	return false, nil
}

// imageNamed (image_named(NAME)): an image attachment is called NAME.
func imageNamed(c *Context, args []string) (bool, error) {
	if err := needArgs("image_named", args, 1); err != nil {
		return false, err
	}
	return c.images().names[args[0]], nil
}
