/* ctg-carto: what the map needs in the browser (issue 13).
 *
 * 1. The structure symbols (assets/sprite, drawn by dashboard/map/symbols.py) are added to every map plotly makes,
 *    the live one and the static copies of Plotly.toImage (print layout): the style cannot name the sprite itself
 *    (MapLibre wants an absolute URL there). Images are read from this server only.
 * 2. The « Noms des communes » switch changes the visibility of the two name layers of the map's own style in the
 *    browser (a few ms): another style from the server would make MapLibre rebuild every layer (1 to 3 s, see
 *    docs/spikes/labels.md). Layer ids: dashboard.map.figures.NAMES_LAYER / TOWNS_LAYER.
 */
(function () {
  "use strict";

  const LAYERS = ["ctg-noms-communes", "ctg-noms-villes"];
  const SPRITE = "/assets/sprite/ctg";
  let sprite = null;

  function mapOf() {
    const graph = document.querySelector("#carte .js-plotly-plot");
    const full = graph && graph._fullLayout;
    return full && full.map && full.map._subplot ? full.map._subplot.map : null;
  }

  function loadSprite() {
    if (sprite) { return sprite; }
    const ratio = window.devicePixelRatio > 1 ? 2 : 1;
    const stem = SPRITE + (ratio > 1 ? "@2x" : "");
    const index = fetch(stem + ".json").then(function (r) { return r.json(); });
    const image = new Promise(function (resolve, reject) {
      const img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = stem + ".png";
    });
    sprite = Promise.all([index, image]).then(function (both) {
      const canvas = document.createElement("canvas");
      canvas.width = both[1].width;
      canvas.height = both[1].height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(both[1], 0, 0);
      const images = {};
      Object.keys(both[0]).forEach(function (name) {
        const box = both[0][name];
        images[name] = {
          data: context.getImageData(box.x, box.y, box.width, box.height),
          pixelRatio: box.pixelRatio || 1,
        };
      });
      return images;
    });
    return sprite;
  }

  function addImages(map, only) {
    return loadSprite().then(function (images) {
      Object.keys(images).forEach(function (name) {
        if ((only && name !== only) || map.hasImage(name)) { return; }
        map.addImage(name, images[name].data, { pixelRatio: images[name].pixelRatio });
      });
    });
  }

  function resolver(map) {
    return function (id) { return id.indexOf("ctg_") === 0 ? addImages(map, id) : undefined; };
  }

  function adopt(map) {
    if (map._ctgSymbols) { return; }
    map._ctgSymbols = true;
    addImages(map);
    map.setMissingStyleImageResolver(resolver(map));
    /* Maps made later (Plotly.toImage's static copy) share the prototype: wrap the resolver plotly gives them. */
    const proto = Object.getPrototypeOf(map);
    if (!proto._ctgWrapped && proto.setMissingStyleImageResolver) {
      const original = proto.setMissingStyleImageResolver;
      proto.setMissingStyleImageResolver = function () {
        return original.call(this, resolver(this));
      };
      proto._ctgWrapped = true;
    }
  }

  function watch() {
    const map = mapOf();
    if (map) { adopt(map); }
    setTimeout(watch, map && map._ctgSymbols ? 1000 : 100);
  }
  loadSprite();
  watch();

  function names(visible, tries) {
    const map = mapOf();
    if (!map || !map.isStyleLoaded() || !LAYERS.every(function (id) { return map.getLayer(id); })) {
      if (tries > 0) { setTimeout(function () { names(visible, tries - 1); }, 250); }
      return;
    }
    LAYERS.forEach(function (id) { map.setLayoutProperty(id, "visibility", visible ? "visible" : "none"); });
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ctgMap: {
      names: function (value) {
        const visible = Array.isArray(value) && value.indexOf("noms") !== -1;
        names(visible, 120);
        return visible ? "names-toggle noms-affiches" : "names-toggle noms-masques";
      },
    },
  });
})();
