/**
 * Colours from the VS Code theme (its CSS variables), resolved to concrete rgb() strings so drawings can be
 * exported as standalone SVG/PNG. `onThemeChange` fires when the user switches between light, dark and
 * high-contrast themes (VS Code changes the body's class).
 */

export type Rgb = [number, number, number];

let probe: CanvasRenderingContext2D | null = null;

/** Parses any CSS colour the browser knows (via a canvas) to [r, g, b]. */
export function parseColour(css: string, fallback: Rgb = [128, 128, 128]): Rgb {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe || css.trim() === '') return fallback;
  probe.fillStyle = '#010203';
  probe.fillStyle = css.trim();
  const value = String(probe.fillStyle);
  if (value === '#010203' && css.trim() !== '#010203') return fallback;
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(value);
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  const rgb = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(value);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : fallback;
}

export const rgb = (c: Rgb, alpha = 1): string =>
  alpha >= 1 ? `rgb(${c[0]}, ${c[1]}, ${c[2]})` : `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${+alpha.toFixed(3)})`;

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  const u = Math.min(Math.max(t, 0), 1);
  return [Math.round(a[0] + (b[0] - a[0]) * u), Math.round(a[1] + (b[1] - a[1]) * u), Math.round(a[2] + (b[2] - a[2]) * u)];
}

export interface Theme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  background: Rgb;
  foreground: Rgb;
  muted: Rgb;
  accent: Rgb;
  /** Border colour in high-contrast themes (undefined otherwise). */
  contrastBorder: Rgb | undefined;
  /** Hot end of the heat maps. */
  heat: Rgb;
  /** Negative end of diverging heat maps. */
  cold: Rgb;
  fontFamily: string;
  /** One colour per head / group (12, cycling). */
  palette: Rgb[];
}

function variable(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}

export function readTheme(): Theme {
  const classes = document.body.classList;
  const kind: Theme['kind'] = classes.contains('vscode-high-contrast-light')
    ? 'high-contrast-light'
    : classes.contains('vscode-high-contrast')
      ? 'high-contrast'
      : classes.contains('vscode-light')
        ? 'light'
        : 'dark';
  const dark = kind === 'dark' || kind === 'high-contrast';
  const background = parseColour(variable('--vscode-sideBar-background') || variable('--vscode-editor-background'), dark ? [30, 30, 30] : [255, 255, 255]);
  const foreground = parseColour(variable('--vscode-foreground') || variable('--vscode-editor-foreground'), dark ? [204, 204, 204] : [51, 51, 51]);
  const charts = ['blue', 'red', 'green', 'yellow', 'orange', 'purple'].map((name, i) =>
    parseColour(variable(`--vscode-charts-${name}`), FALLBACK_CHARTS[i]),
  );
  const contrast = variable('--vscode-contrastBorder');
  const palette = [...charts, ...charts.map((c) => mix(c, dark ? [255, 255, 255] : [0, 0, 0], 0.45))];
  return {
    kind,
    background,
    foreground,
    muted: mix(background, foreground, 0.55),
    accent: parseColour(variable('--vscode-focusBorder'), charts[0]),
    contrastBorder: kind.startsWith('high-contrast') && contrast ? parseColour(contrast) : undefined,
    heat: kind.startsWith('high-contrast') ? (dark ? [255, 255, 0] : [0, 0, 160]) : charts[0]!,
    cold: charts[1]!,
    fontFamily: variable('--vscode-font-family') || 'sans-serif',
    palette,
  };
}

const FALLBACK_CHARTS: Rgb[] = [
  [55, 148, 255],
  [241, 76, 76],
  [137, 209, 133],
  [204, 167, 0],
  [209, 134, 22],
  [179, 128, 255],
];

/** Heat colour for a value in [0, 1]: from the background to the theme's heat colour. */
export function heatColour(theme: Theme, value: number): Rgb {
  return mix(theme.background, theme.heat, Math.sqrt(Math.min(Math.max(value, 0), 1)));
}

/** Diverging colour for a value in [-1, 1]: cold - background - heat. */
export function divergingColour(theme: Theme, value: number): Rgb {
  return value >= 0 ? mix(theme.background, theme.heat, Math.min(value, 1)) : mix(theme.background, theme.cold, Math.min(-value, 1));
}

export function onThemeChange(listener: () => void): void {
  new MutationObserver(() => listener()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
