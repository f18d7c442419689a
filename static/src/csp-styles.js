// CodeMirror keeps its styles in JavaScript (the style-mod package). Mounted into a document, style-mod writes
// them into a <style> element, which the app's Content-Security-Policy (`style-src 'self'`, no 'unsafe-inline')
// refuses. Mounted into a shadow root, style-mod uses a constructed stylesheet (new CSSStyleSheet, attached
// through adoptedStyleSheets) instead: that sheet is built through the CSSOM by a script the policy already
// allowed, like element.style, and style-src does not govern it. Here the document is mounted the same way:
// StyleModule.mount gets a stand-in root that offers only the adoptedStyleSheets of the real document.

import { StyleModule } from "style-mod";

const PATCHED = Symbol("constructed stylesheets");

/** Route every StyleModule mounted into `doc` into a constructed stylesheet; false where the browser lacks them. */
export function useConstructedStylesheets(doc = document) {
  const win = doc.defaultView;
  if (!win || !("adoptedStyleSheets" in doc) || typeof win.CSSStyleSheet !== "function") return false;
  try {
    new win.CSSStyleSheet();
  } catch {
    return false;
  }
  if (StyleModule.mount[PATCHED]) return true;
  const standIn = {
    ownerDocument: doc, // no `head`: style-mod takes the adoptedStyleSheets route, as for a shadow root
    get adoptedStyleSheets() {
      return doc.adoptedStyleSheets;
    },
    set adoptedStyleSheets(sheets) {
      doc.adoptedStyleSheets = sheets;
    },
  };
  const mount = StyleModule.mount;
  const routed = function (root, modules, options) {
    return mount.call(this, root === doc ? standIn : root, modules, options);
  };
  routed[PATCHED] = true;
  StyleModule.mount = routed;
  return true;
}
