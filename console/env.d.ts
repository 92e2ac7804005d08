// .vue files are compiled by build.mjs (esbuild-plugin-vue3); to the type checker they are components.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
