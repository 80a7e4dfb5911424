package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
)

func TestDemo(t *testing.T) {
	c, err := classify.New(classify.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(newDemo(c))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/?url=" + url.QueryEscape("https://x.example/?utm_source=bing&utm_medium=cpc"))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(body), "Your visit")
	assert.Equal(t, len(samples)+2, strings.Count(string(body), "<tr>"), "header, your visit, and every sample")

	res, err = http.Get(srv.URL + "/api/classify?referrer=" + url.QueryEscape("https://www.google.de/") + "&url=" + url.QueryEscape("https://x.example/"))
	require.NoError(t, err)
	defer res.Body.Close()
	var s classify.Source
	require.NoError(t, json.NewDecoder(res.Body).Decode(&s))
	assert.Equal(t, classify.ChannelOrganicSearch, s.Channel)
	assert.Equal(t, "google", s.Source)
}
