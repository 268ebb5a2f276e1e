/**
 * The ONE module that imports @vscode/webview-ui-toolkit (archived upstream): replacing it means replacing this
 * file. Webviews call `registerToolkit()` once and create the elements by tag name.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
  vsCodeRadio,
  vsCodeRadioGroup,
  vsCodeTag,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeProgressRing(),
    vsCodeRadio(),
    vsCodeRadioGroup(),
    vsCodeTag(),
  );
}

/** What the webviews read from the toolkit's elements (kept here so no other file names the toolkit's types). */
export interface ValueElement extends HTMLElement {
  value: string;
}

export interface CheckedElement extends HTMLElement {
  checked: boolean;
}
