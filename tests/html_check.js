// The DOM check of report.html (issue 30): loaded after the page by test_readable's chromium
// group, it writes what it found into <pre id="domcheck">, which --dump-dom hands back.
// Every label (an SVG <text>) is measured by the browser; two whose boxes intersect by more
// than half a pixel either way overlap.
(function () {
  var out = [];
  var sweeps = document.querySelectorAll('svg.plot.sweep');
  out.push('sweep plots: ' + sweeps.length);
  var slopes = 0, legends = 0;
  sweeps.forEach(function (s) {
    s.querySelectorAll('text.slope').forEach(function (t) {
      if (/per .*\[/.test(t.textContent)) slopes++;
    });
    if (s.querySelector('g.legend')) legends++;
  });
  out.push('slope texts: ' + slopes);
  out.push('sweep legends: ' + legends);
  var overlaps = 0, labels = 0;
  document.querySelectorAll('svg').forEach(function (svg) {
    var ts = Array.prototype.map.call(svg.querySelectorAll('text'), function (t) {
      return { t: t, r: t.getBoundingClientRect() };
    }).filter(function (x) { return x.r.width > 0 && x.r.height > 0; });
    labels += ts.length;
    for (var i = 0; i < ts.length; i++)
      for (var j = i + 1; j < ts.length; j++) {
        var a = ts[i].r, b = ts[j].r;
        var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5) {
          overlaps++;
          out.push('OVERLAP: "' + ts[i].t.textContent + '" / "' + ts[j].t.textContent + '"');
        }
      }
  });
  out.push('labels: ' + labels);
  out.push('overlaps: ' + overlaps);
  var pre = document.createElement('pre');
  pre.id = 'domcheck';
  pre.textContent = out.join('\n');
  document.body.appendChild(pre);
})();
